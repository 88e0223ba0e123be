namespace LearningMechanics.Lab;

/// <summary>Everything an experiment gets for a run; <paramref name="Units"/>: where a grid experiment's units run (null: in
/// this process).</summary>
public sealed record RunContext(RunMode Mode, ulong Seed, Settings Settings, IProgress<ProgressInfo>? Progress = null,
    CancellationToken Cancellation = default, IUnitRunner? Units = null);

/// <summary>What an experiment returns: claims with verdicts, raw series (equal-length columns), plots.</summary>
public sealed class ExperimentOutput
{
    public List<Claim> Claims { get; } = [];
    /// <summary>A table with this name is written flat into result.json's <c>series</c> (e.g. series.step, series.loss).</summary>
    public const string TopLevelSeries = "series";
    /// <summary>Named tables of equal-length columns, written as CSV files and into result.json's <c>series</c>.</summary>
    public Dictionary<string, SeriesTable> Tables { get; } = [];
    public List<PlotSpec> Plots { get; } = [];
    /// <summary>Extra configuration facts worth recording (derived sizes, inputs used, backend…).</summary>
    public Dictionary<string, string> Facts { get; } = [];
    public Dictionary<string, double> Timings { get; } = [];
}

/// <summary>
/// A gallery entry: an id, the claim it tests, where the claim comes from, and, declared as data, its settings and the
/// claims its run yields (every claim of a run is an instance of one declaration); then the run.
/// </summary>
public interface IExperiment
{
    string Id { get; }
    string Title { get; }
    /// <summary>One-line statement of the claim for <c>lmech list</c>.</summary>
    string Summary { get; }
    /// <summary>Where the claim comes from: author–year citations of docs/references.md with sections or equations.</summary>
    string Source { get; }
    IReadOnlyList<SettingInfo> Settings { get; }
    IReadOnlyList<ClaimDeclaration> Claims { get; }
    ExperimentOutput Run(RunContext context);

    /// <summary>Checks the settings' values beyond their types (ranges, combinations), throwing a <see cref="BadInputException"/>,
    /// so that <c>lmech run all</c> refuses bad input before any experiment starts.</summary>
    void Validate(Settings settings) { }

    /// <summary>Roughly the work and the peak memory a run with these settings needs (null: no estimate), so that the runner
    /// refuses runs far beyond a lab run (<see cref="Runner.MaxFlops"/>, <see cref="Runner.MaxBytes"/>) before they start,
    /// unless forced.</summary>
    ResourceEstimate? Estimate(Settings settings) => null;
}
