using System.Diagnostics;
using LearningMechanics.Lab.Reports;
using LearningMechanics.Lab.Storage;

namespace LearningMechanics.Lab;

/// <summary>How to run an experiment: mode, seed, output folder, <c>--set</c> overrides, progress sink.</summary>
public sealed record RunOptions(RunMode Mode = RunMode.Quick, ulong Seed = 42, string OutDir = "lmech-results",
    IReadOnlyDictionary<string, string>? Overrides = null, IProgress<ProgressInfo>? Progress = null,
    CancellationToken Cancellation = default, IUnitRunner? Units = null, bool Force = false);

/// <summary>
/// Runs gallery experiments and stores everything they produce: <c>DIR/&lt;id&gt;/result.json</c>, one CSV per
/// series table, <c>report.html</c>, rows in <c>DIR/results.db</c> and <c>DIR/index.html</c>. A previous run of the
/// same experiment is moved to <c>DIR/&lt;id&gt;/history/&lt;run id&gt;/</c>, never overwritten.
/// </summary>
public static class Runner
{
    public const string DatabaseFile = "results.db";

    /// <summary>Work beyond which a run is refused unless forced: 10¹⁴ operations, hours at the ≈ 10 GFLOP/s a 2-core machine
    /// sustains on these workloads (every quick run needs less than 10¹³), or what the experiment's own <c>--full</c> defaults
    /// need where that is more (<see cref="FlopsLimit"/>).</summary>
    public const double MaxFlops = 1e14;

    /// <summary>
    /// The work limit of <paramref name="experiment"/>: <see cref="MaxFlops"/>, or the estimate of its <c>--full</c> defaults
    /// where that is larger. The publication-size grids (the full <c>mup-transfer</c> trains 2 112 networks, ≈ 2·10¹⁵
    /// operations) take days on 2 cores and are meant for <c>--executor</c>; they run as declared, but nothing beyond both.
    /// </summary>
    public static double FlopsLimit(IExperiment experiment) =>
        experiment.Estimate(new Settings(experiment.Settings, RunMode.Full, new Dictionary<string, string>())) is { Flops: var f }
            && f > MaxFlops ? f : MaxFlops;

    private const double AssumedFlopsPerSecond = 1e10;

    /// <summary>Share of the available memory a run may plan to hold at once.</summary>
    public const double MemoryShare = 0.8;

    /// <summary>Memory this process may use: the physical memory or the container's limit, as the garbage collector sees it.
    /// </summary>
    public static double AvailableBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Peak memory beyond which a run is refused unless forced: <see cref="MemoryShare"/> (80 %) of
    /// <see cref="AvailableBytes"/>, leaving room for the runtime, BLAS buffers and the rest of the machine.</summary>
    public static double MaxBytes => MemoryShare * AvailableBytes;

    /// <summary>Checks settings, the work and memory they imply and the output folder, so bad input fails before any work.
    /// </summary>
    public static Settings Prepare(IExperiment experiment, RunOptions options)
    {
        var settings = SettingsOf(experiment, options);
        experiment.Validate(settings);
        if (!options.Force && experiment.Estimate(settings) is { } estimate
            && Refusal(experiment.Id, estimate, FlopsLimit(experiment)) is { } why)
            throw new BadInputException(why);
        EnsureWritable(options.OutDir);
        return settings;
    }

    private static Settings SettingsOf(IExperiment experiment, RunOptions options) =>
        new(experiment.Settings, options.Mode, options.Overrides ?? new Dictionary<string, string>());

    /// <summary>Why a run with this estimate is refused (its work beyond <paramref name="flopsLimit"/>, by default
    /// <see cref="MaxFlops"/>; its memory beyond <see cref="MaxBytes"/>; or both), or null when it fits. An estimate that is not a
    /// number is refused too.</summary>
    public static string? Refusal(string id, ResourceEstimate estimate, double flopsLimit = MaxFlops)
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        var (flops, bytes) = estimate;
        var reasons = new List<string>();
        if (!(flops <= flopsLimit))
            reasons.Add(string.Create(ci, $"about {flops:G2} floating-point operations, about ") +
                string.Create(ci, $"{flops / AssumedFlopsPerSecond / 3600:G2} hours at {AssumedFlopsPerSecond / 1e9:G2} GFLOP/s ") +
                string.Create(ci, $"(the limit is {flopsLimit:G2}{(flopsLimit > MaxFlops ? ", what its --full defaults need" : "")})"));
        if (!(bytes <= MaxBytes))
            reasons.Add(string.Create(ci, $"about {bytes / 1e9:0.#} GB of memory at once, more than the {MaxBytes / 1e9:0.#} GB ") +
                string.Create(ci, $"allowed ({MemoryShare:P0} of the {AvailableBytes / 1e9:0.#} GB available)"));
        if (reasons.Count == 0) return null;
        return $"{id} with these settings needs {string.Join(" and ", reasons)}. " +
            "Reduce the settings, or pass --force to run it anyway.";
    }

    /// <summary>
    /// The finished result of <paramref name="experiment"/> in the output folder with the same settings, seed, mode and lmech
    /// version (its result.json and report.html both written), or null: what <c>lmech run --resume</c> keeps instead of
    /// running again.
    /// </summary>
    public static ResultHeader? Finished(IExperiment experiment, RunOptions options)
    {
        string dir = Path.Combine(options.OutDir, experiment.Id);
        if (!File.Exists(Path.Combine(dir, "report.html"))) return null;
        var header = ResultJson.ReadHeader(Path.Combine(dir, "result.json"));
        var settings = SettingsOf(experiment, options);
        bool same = header is not null && header.Experiment == experiment.Id && header.Version == RunRecord.LibraryVersion
            && header.Seed == options.Seed && header.Mode == options.Mode.ToString().ToLowerInvariant()
            && settings.Values.All(kv => header.Config.TryGetValue(kv.Key, out var v) && v == kv.Value);
        return same ? header : null;
    }

    /// <summary>
    /// Held while <see cref="Save"/> writes a run: an interrupted process (SIGINT, SIGTERM) waits for it before exiting, so a
    /// finished experiment's files and database rows are either all written or not begun.
    /// </summary>
    public static readonly object SaveGate = new();

    public static RunRecord Run(IExperiment experiment, RunOptions options)
    {
        var settings = Prepare(experiment, options);
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var output = experiment.Run(new RunContext(options.Mode, options.Seed, settings, options.Progress, options.Cancellation,
            options.Units));
        double elapsed = clock.Elapsed.TotalSeconds;
        var config = new Dictionary<string, string>(settings.Values);
        foreach (var (k, v) in output.Facts) config[k] = v;
        config["threads"] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var run = new RunRecord($"{experiment.Id}-{started:yyyyMMdd'T'HHmmssfff'Z'}-s{options.Seed}", experiment.Id, experiment.Title,
            experiment.Summary, experiment.Source, RunRecord.LibraryVersion, options.Seed, options.Mode, config, output, started, elapsed,
            Path.Combine(options.OutDir, experiment.Id));
        Save(run, options.OutDir);
        return run;
    }

    /// <summary>
    /// Writes a finished run to disk and the database and refreshes the index page. Runs that finish at the same time in
    /// one output folder (two lmech processes, or parallel units) take turns through <see cref="Lock"/>: otherwise one
    /// could move the other's files to history/ between its writing them and recording them, leaving a database row that
    /// points at another run's report.
    /// </summary>
    public static void Save(RunRecord run, string outDir)
    {
        lock (SaveGate) SaveLocked(run, outDir);
    }

    private static void SaveLocked(RunRecord run, string outDir)
    {
        Directory.CreateDirectory(run.Directory);
        using var turn = Lock(outDir);
        using var db = new ResultsDb(Path.Combine(outDir, DatabaseFile));
        string existing = Path.Combine(run.Directory, "result.json");
        if (File.Exists(existing))
        {
            string oldId = ResultJson.ReadRunId(existing) ?? $"unknown-{File.GetLastWriteTimeUtc(existing):yyyyMMdd'T'HHmmss'Z'}";
            string target = Path.Combine(run.Directory, "history", oldId);
            for (int k = 2; Directory.Exists(target); k++) target = Path.Combine(run.Directory, "history", $"{oldId}-{k}");
            Directory.CreateDirectory(target);
            foreach (var f in Directory.GetFiles(run.Directory)) File.Move(f, Path.Combine(target, Path.GetFileName(f)));
            db.UpdateReportPath(oldId, $"{run.ExperimentId}/history/{Path.GetFileName(target)}/report.html");
        }
        var csvFiles = new List<string>();
        foreach (var (name, table) in run.Output.Tables)
        {
            string file = $"{name}.csv";
            File.WriteAllText(Path.Combine(run.Directory, file), CsvWriter.ToCsv(table));
            csvFiles.Add(file);
        }
        File.WriteAllText(Path.Combine(run.Directory, "result.json"), ResultJson.Serialize(run));
        File.WriteAllText(Path.Combine(run.Directory, "report.html"), HtmlReport.Render(run, csvFiles));
        db.Insert(run, $"{run.ExperimentId}/report.html");
        File.WriteAllText(Path.Combine(outDir, "index.html"), HtmlReport.RenderIndex(db.Runs()));
    }

    /// <summary>How long <see cref="Save"/> waits for another process's save into the same folder.</summary>
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(2);

    /// <summary>An exclusive lock on <c>DIR/.lmech.lock</c> (FileShare.None, an flock on Linux), held until disposed.</summary>
    private static FileStream Lock(string outDir)
    {
        string path = Path.Combine(outDir, ".lmech.lock");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (clock.Elapsed < LockTimeout) { Thread.Sleep(20); }
        }
    }

    /// <summary>Creates <paramref name="dir"/> and checks that a file can be written there, before any work is done; otherwise
    /// a <see cref="BadInputException"/> naming the folder and the option that chose it.</summary>
    public static void EnsureWritable(string dir, string option = "--out DIR")
    {
        try
        {
            Directory.CreateDirectory(dir);
            string probe = Path.Combine(dir, $".lmech-write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BadInputException($"Output folder '{dir}' is not writable ({e.Message}). Choose another with {option}.");
        }
    }
}
