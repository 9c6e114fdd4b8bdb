# Tests/ci_skips.py
#
# A pytest plugin scripts/test.sh loads under CI=true (`-p ci_skips`): a skipped test fails the run, so a
# tier that cannot run on the CI machine (kubectl, buildah, podman, runc or root missing, a binary not
# built) is noticed instead of passing quietly. The skips listed in MACHINE_FACTS stay skips: they say
# something about the file system or the machine, not about a missing prerequisite.

import pytest

MACHINE_FACTS = (
    "did not reuse the inode",     # Tests/integration/tail/test_tail_rotation.py: nothing to tell apart
    "exists on this machine",      # Tests/integration/test_environment.py: a real /etc/tailcar or /etc/ilogtail
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if any(fact in reason for fact in MACHINE_FACTS):
        return
    report.outcome = "failed"
    report.longrepr = f"CI=true and this test was skipped: {reason}. scripts/test.sh installs every tier's prerequisites."
