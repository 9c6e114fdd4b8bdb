// SidecarInjectorTests.swift
//
// YAMLTree reads and writes manifests without changing what they mean (key order, quoting, blocks), and
// SidecarInjector puts the sidecar where each kind keeps its pod, once.

import Testing
@testable import TailcarCore

@Suite("YAMLTree and SidecarInjector")
struct SidecarInjectorTests {
    private func parse(_ text: String) throws -> [YAMLTree] { try YAMLTree.documents(Array(text.utf8), file: "t.yaml") }

    private func emit(_ documents: [YAMLTree]) throws -> String {
        String(decoding: try YAMLTree.emit(documents), as: UTF8.self)
    }

    private let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          template:
            spec:
              containers:
              - name: web
                image: nginx
                env:
                - name: PORT
                  value: "8080"
                - name: ON
                  value: 'yes'
                args:
                - |
                  two
                  lines
              volumes:
              - name: tailcar-state
                emptyDir: {}

        """

    @Test("a manifest reads and writes back with its order, quoting and block scalars")
    func roundTrip() throws {
        let text = try emit(try parse(deployment))
        #expect(text == deployment)
    }

    @Test("generated strings are quoted exactly when plain YAML would read something else")
    func stringQuoting() throws {
        let values: [YAMLTree] = ["10", "true", "", "null", "-1", ".5", "web", "a b", "/var/log"].map(YAMLTree.string)
        let text = try emit([.list(values)])
        #expect(text == "- \"10\"\n- \"true\"\n- \"\"\n- \"null\"\n- \"-1\"\n- \".5\"\n- web\n- a b\n- /var/log\n")
    }

    @Test("aliases and duplicate keys are refused with their position")
    func refusals() {
        #expect(throws: YAMLTreeError.self) { try parse("a: &x 1\nb: *x\n") }
        do throws(YAMLTreeError) {
            _ = try YAMLTree.documents(Array("a: 1\na: 2\n".utf8), file: "t.yaml")
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.line == 2)
            #expect(error.problem.contains("duplicate key"))
        }
    }

    @Test("the sidecar goes first among init containers, volume names stay unique, and twice is once")
    func injectOnce() throws {
        var injector = try SidecarInjector(options: InjectionOptions(logDirectory: "/var/log/app/", image: "tailcar:1"))
        let once = try injector.inject(try parse(deployment))
        let spec = try #require(once[0][path: ["spec", "template", "spec"]])
        #expect(spec["initContainers"]?.items?.first?["name"]?.text == "tailcar")
        #expect(spec["volumes"]?.items?.compactMap { $0["name"]?.text } == ["tailcar-state", "tailcar-logs",
                                                                             "tailcar-state-2", "tailcar-config"])
        let mounts = spec["containers"]?.items?.first?["volumeMounts"]?.items ?? []
        #expect(mounts.map { $0["mountPath"]?.text } == ["/var/log/app"])
        var again = try SidecarInjector(options: InjectionOptions(logDirectory: "/var/log/app", image: "tailcar:1"))
        #expect(try again.inject(once) == once)
        #expect(again.notes.count == 1 && again.notes[0].contains("already has"))
    }

    @Test("CronJobs are injected in their job template; unknown kinds and null documents pass or vanish")
    func kinds() throws {
        let text = """
            kind: CronJob
            metadata: {name: nightly}
            spec:
              jobTemplate:
                spec:
                  template:
                    spec:
                      containers: [{name: job, image: busybox}]
            ---
            kind: ConfigMap
            metadata: {name: c}
            data: {a: "1"}
            ---
            """
        var injector = try SidecarInjector(options: InjectionOptions(logDirectory: "/logs", image: "t", nativeSidecar: false))
        let documents = try parse(text)
        let result = try injector.inject(documents)
        #expect(result.count == 2)
        #expect(result[1] == documents[1])
        let containers = result[0][path: ["spec", "jobTemplate", "spec", "template", "spec", "containers"]]?.items ?? []
        #expect(containers.map { $0["name"]?.text } == ["job", "tailcar"])
        let env = containers[1]["env"]?.items ?? []
        #expect(env.contains { $0["name"]?.text == "TAILCAR_TASK_DIR" && $0["value"]?.text == "/tasksite" })
        #expect(env.contains { $0["name"]?.text == "ALIYUN_LOGTAIL_USER_DEFINED_ID" && $0["value"]?.text == "nightly" })
    }

    @Test("a relative log directory is refused")
    func relativeLogDirectory() {
        #expect(throws: InjectError.self) { try SidecarInjector(options: InjectionOptions(logDirectory: "logs", image: "t")) }
    }
}
