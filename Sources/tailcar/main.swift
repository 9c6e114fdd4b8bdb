// tailcar: the executable. Arguments and environment in, a validated configuration out, then run.
import Glibc
import TailcarCore

let arguments = processArguments()
let environment = Environment.current()
let command = arguments.count > 1 ? arguments[1] : "help"
let rest = arguments.dropFirst(2)

let status: Int32
switch command {
case "run":
    status = RunCommand.run(rest, environment: environment)
case "status":
    status = StatusCommand.run(rest, environment: environment)
case "bootstrap":
    status = BootstrapCommand.run(rest, environment: environment)
case "controller":
    status = ControllerCommand.run(rest, environment: environment)
case "check-config":
    status = CheckConfigCommand.run(rest, environment: environment)
case "parse":
    status = ParseCommand.run(rest, environment: environment)
case "bench":
    status = BenchCommand.run(rest, environment: environment)
case "sls-sink":
    status = SLSSinkCommand.run(rest)
case "inject":
    status = InjectCommand.run(rest)
case "regex":
    status = RegexCommand.run(arguments: Array(rest))
case "version", "--version", "-V":
    print("tailcar \(tailcarVersion)")
    status = 0
case "help", "--help", "-h":
    print(helpText)
    status = 0
default:
    printError("tailcar: unknown command \"\(command)\"; see 'tailcar help'")
    status = 2
}
exit(status)
