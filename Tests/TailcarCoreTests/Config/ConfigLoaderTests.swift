// Loading iLogtail pipelines from YAML and JSON: the same settings from both forms, defaults, every error
// with its file, line and field path, and unknown fields as warnings with a suggestion.
import Glibc
import Testing
@testable import TailcarCore

@Suite("ConfigLoader")
struct ConfigLoaderTests {
    private func put(_ directory: String, _ name: String, _ text: String) -> String {
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return path
    }

    @Test("the YAML and JSON forms of one pipeline give the same settings, defaults included")
    func yamlAndJSON() throws {
        let scratch = ScratchDirectory()
        let yaml = put(scratch.path, "web.yaml", """
            inputs:
              - Type: input_file
                FilePaths: ["/var/log/nginx/*.log"]
                MaxDirSearchDepth: 2
            processors:
              - Type: processor_parse_delimiter_native
                Separator: "|"
                Keys: [a, b]
            flushers:
              - Type: flusher_file
                FilePath: /tmp/out.jsonl
            """)
        let json = put(scratch.path, "web.json", """
            {"inputs": [{"Type": "input_file", "FilePaths": ["/var/log/nginx/*.log"], "MaxDirSearchDepth": 2}],
             "processors": [{"Type": "processor_parse_delimiter_native", "Separator": "|", "Keys": ["a", "b"]}],
             "flushers": [{"Type": "flusher_file", "FilePath": "/tmp/out.jsonl"}]}
            """)
        let fromYAML = try #require(ConfigLoader.load(path: yaml).settings?.pipelines.first)
        let fromJSON = try #require(ConfigLoader.load(path: json).settings?.pipelines.first)
        for pipeline in [fromYAML, fromJSON] {
            #expect(pipeline.name == "web")
            #expect(pipeline.inputs[0].filePaths == ["/var/log/nginx/*.log"])
            #expect(pipeline.inputs[0].maxDirSearchDepth == 2)
            #expect(pipeline.inputs[0].tailSizeBytes == 1024 * 1024)
            #expect(pipeline.inputs[0].maxLineBytes == 512 * 1024)
            #expect(pipeline.inputs[0].incompleteLineTimeout == .seconds(5))
            #expect(pipeline.processors == [.parseDelimiter(SourceHandling(keepOnFailure: false), separator: "|",
                                                            quote: 0x22, keys: ["a", "b"],
                                                            allowingShortenedFields: true, overflow: "extend")])
            #expect(pipeline.flushers == [.file(path: "/tmp/out.jsonl")])
        }
    }

    @Test("a directory loads every pipeline file in name order and skips the rest")
    func directory() throws {
        let scratch = ScratchDirectory()
        let body = "inputs: [{Type: input_file, FilePaths: [/l/*.log]}]\nflushers: [{Type: flusher_blackhole}]\n"
        _ = put(scratch.path, "b.yml", body)
        _ = put(scratch.path, "a.yaml", body)
        _ = put(scratch.path, ".hidden.yaml", "not: [valid")
        _ = put(scratch.path, "notes.txt", "ignored")
        let result = ConfigLoader.load(path: scratch.path)
        #expect(result.errors.isEmpty)
        #expect(result.settings?.pipelines.map(\.name) == ["a", "b"])
    }

    @Test("errors name the file, line, column and field path; unknown fields warn with the nearest name")
    func diagnostics() throws {
        let scratch = ScratchDirectory()
        let path = put(scratch.path, "bad.yaml", """
            inputs:
              - Type: input_file
                FilePath: /l/a.log
                MaxDirSearchDepth: deep
            flushers:
              - Type: flusher_stdot
            """)
        let result = ConfigLoader.load(path: path)
        #expect(result.settings == nil)
        let messages = result.errors.map(\.description)
        #expect(messages.contains("\(path):2:5: error: inputs[0].FilePaths: is required in input_file"))
        #expect(messages.contains("\(path):4:24: error: inputs[0].MaxDirSearchDepth: expected a whole number from 0 to 1000"))
        #expect(messages.contains { $0.hasPrefix("\(path):6:5: error: flushers[0].Type: unknown plugin type \"flusher_stdot\"; did you mean \"flusher_stdout\"?") })
        #expect(result.warnings.map(\.description).contains(
            "\(path):3:5: warning: inputs[0].FilePath: unknown field \"FilePath\" in input_file; did you mean \"FilePaths\"? (ignored)"))
    }

    @Test("multi-line: UnmatchedContentTreatment and discardUnmatch reach the framer; .* is single line; a broken pattern is an error where it stands")
    func multilineSettings() throws {
        let scratch = ScratchDirectory()
        func input(_ multiline: String) -> FileInputSettings? {
            let path = put(scratch.path, "m.yaml", """
                inputs:
                  - Type: input_file
                    FilePaths: [/l/a.log]
                    Multiline:
                \(multiline)
                flushers:
                  - Type: flusher_stdout
                """)
            return ConfigLoader.load(path: path).settings?.pipelines.first?.inputs.first
        }
        #expect(input("      StartPattern: 'x.*'\n      UnmatchedContentTreatment: discard")?.multiline
                == .custom(start: "x.*", continuePattern: nil, end: nil, discardUnmatched: true,
                           maxRecordBytes: 512 * 1024))
        #expect(input("      StartPattern: 'x.*'")?.multiline
                == .custom(start: "x.*", continuePattern: nil, end: nil, discardUnmatched: false,
                           maxRecordBytes: 512 * 1024))
        #expect(input("      StartPattern: '.*'")?.multiline == .singleLine)
        let bad = put(scratch.path, "bad.yaml", """
            inputs:
              - Type: input_file
                FilePaths: [/l/a.log]
                Multiline: {StartPattern: 'x.*', UnmatchedContentTreatment: drop}
            flushers:
              - Type: flusher_stdout
            """)
        #expect(ConfigLoader.load(path: bad).errors.map(\.description).contains {
            $0.contains("inputs[0].Multiline.UnmatchedContentTreatment: must be single_line or discard, found \"drop\"")
        })
        let broken = put(scratch.path, "broken.yaml", """
            inputs:
              - Type: input_file
                FilePaths: [/l/a.log]
                Multiline: {StartPattern: 'ab(?=x).*'}
            flushers:
              - Type: flusher_stdout
            """)
        #expect(ConfigLoader.load(path: broken).errors.map(\.description) == [
            "\(broken):4:31: error: inputs[0].Multiline.StartPattern: regex error at offset 2: lookahead assertion in pattern ab(?=x).*"
        ])
        let logtail = put(scratch.path, "logtail.json", """
            {"configName": "c", "inputType": "file", "outputDetail": {"logstoreName": "s"},
             "inputDetail": {"logType": "common_reg_log", "logPath": "/l", "filePattern": "a.log",
                             "logBeginRegex": "\\\\d+ .*", "discardUnmatch": true}}
            """)
        #expect(ConfigLoader.load(path: logtail).settings?.pipelines.first?.inputs.first?.multiline
                == .custom(start: "\\d+ .*", continuePattern: nil, end: nil, discardUnmatched: true,
                           maxRecordBytes: 512 * 1024))
    }

    @Test("enable: false is checked but not run: the pipeline is skipped with a note, its errors still reported")
    func disabledPipeline() {
        let scratch = ScratchDirectory()
        let body = "inputs:\n  - Type: input_file\n    FilePaths: [/l/a.log]\nflushers:\n  - Type: flusher_stdout\n"
        _ = put(scratch.path, "a.yaml", "enable: false\n" + body)
        _ = put(scratch.path, "b.yaml", "enable: true\n" + body)
        let result = ConfigLoader.load(path: scratch.path)
        #expect(result.errors.isEmpty)
        #expect(result.settings?.pipelines.map(\.name) == ["b"])
        #expect(result.notes.map(\.description).contains { $0.contains("pipeline \"a\" has enable: false: skipped") })
        let broken = put(scratch.path, "c.yaml", "enable: false\ninputs: []\nflushers:\n  - Type: flusher_stdout\n")
        #expect(!ConfigLoader.load(path: broken).errors.isEmpty)
    }

    @Test("RotationDirectories names where copies go (logrotate's olddir); a relative one is an error naming it")
    func rotationDirectories() {
        let scratch = ScratchDirectory()
        let head = "inputs:\n  - Type: input_file\n    FilePaths: [/l/a.log]\n"
        let tail = "flushers:\n  - Type: flusher_stdout\n"
        let good = put(scratch.path, "good.yaml", head + "    RotationDirectories: [/l/old]\n" + tail)
        #expect(ConfigLoader.load(path: good).settings?.pipelines.first?.inputs.first?.rotationDirectories == ["/l/old"])
        let relative = put(scratch.path, "relative.yaml", head + "    RotationDirectories: [old]\n" + tail)
        let errors = ConfigLoader.load(path: relative).errors.map(\.description)
        #expect(errors.contains { $0.contains("inputs[0].RotationDirectories[0]") && $0.contains("absolute") })
    }

    @Test("multi-line patterns match whole lines, as boost::regex_match does in Logtail and iLogtail")
    func multilineWholeLine() throws {
        let rules = try #require(try ProcessorFactory.multiline(
            .custom(start: "BEGIN \\d+", continuePattern: nil, end: "END|DONE", discardUnmatched: false,
                    maxRecordBytes: 1024)))
        func matches(_ predicate: LinePredicate?, _ line: String) -> Bool {
            Array(line.utf8).withUnsafeBytes { predicate!.matches($0) }
        }
        #expect(matches(rules.start, "BEGIN 12"))
        #expect(!matches(rules.start, "BEGIN 12 and more"))
        #expect(!matches(rules.start, "x BEGIN 12"))
        #expect(matches(rules.end, "END") && matches(rules.end, "DONE"))
        #expect(!matches(rules.end, "ENDS") && !matches(rules.end, "DONE\r"))
    }

    @Test("broken files are errors, not crashes: bad YAML, NUL bytes, invalid UTF-8, a tab indent, empty")
    func brokenFiles() {
        let scratch = ScratchDirectory()
        for (name, text) in [("unclosed.yaml", "inputs: [\n  {Type: input_file\n"), ("nul.yaml", "inputs:\u{0}\n"),
                             ("tab.yaml", "inputs:\n\t- Type: input_file\n"), ("empty.yaml", ""),
                             ("scalar.yaml", "just a string\n"), ("alias.yaml", "a: &x 1\nb: *x\n")] {
            let result = ConfigLoader.load(path: put(scratch.path, name, text))
            #expect(!result.errors.isEmpty, "\(name) loaded")
            #expect(result.errors.allSatisfy { $0.position.file.hasSuffix(name) })
        }
        let invalid = scratch.path + "/utf8.yaml"
        let fd = open(invalid, O_WRONLY | O_CREAT, 0o644)
        _ = [0x61, 0x3A, 0x20, 0xFF, 0xFE, 0x0A].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(!ConfigLoader.load(path: invalid).errors.isEmpty)
        #expect(!ConfigLoader.load(path: scratch.path + "/missing.yaml").errors.isEmpty)
    }
}
