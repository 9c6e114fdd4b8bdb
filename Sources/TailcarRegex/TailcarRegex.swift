// TailcarRegex: the precompiled byte-level regex engine (issue 3). Being written.
public enum TailcarRegexModule {}
