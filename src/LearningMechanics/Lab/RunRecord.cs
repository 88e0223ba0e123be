namespace LearningMechanics.Lab;

/// <summary>Everything known about one finished run: identity, configuration, the experiment's output and timing.</summary>
public sealed record RunRecord(string RunId, string ExperimentId, string Title, string Summary, string Source, string Version,
    ulong Seed, RunMode Mode, IReadOnlyDictionary<string, string> Config, ExperimentOutput Output, DateTime StartedUtc,
    double ElapsedSeconds, string Directory)
{
    public int Count(Verdict v) => Output.Claims.Count(c => c.Verdict == v);

    /// <summary>The library version recorded in every result.</summary>
    public static string LibraryVersion =>
        typeof(RunRecord).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
