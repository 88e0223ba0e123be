using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LearningMechanics.Lab.Sweeps;

/// <summary>The outcome of one task as <c>results/&lt;hash&gt;.json</c> holds it: nothing machine- or time-dependent.</summary>
public sealed record SweepResult(int Index, string Hash, ulong Seed, IReadOnlyDictionary<string, string> Values, string Status,
    IReadOnlyDictionary<string, JsonElement> Metrics);

/// <summary>
/// Runs one task of a sweep in this process (<c>lmech sweep task DIR --index i</c>, which every executor starts): marks it
/// running, executes its lmech command into <c>runs/&lt;hash&gt;/</c>, extracts the metrics from that run's result.json
/// and writes <c>results/&lt;hash&gt;.json</c> atomically; a failure writes <c>failed/&lt;hash&gt;.json</c> with the exit code and
/// the log instead. A task killed midway leaves only its sentinel, and resume runs it again from scratch.
/// </summary>
public static class SweepTaskRunner
{
    /// <summary>Metrics kept when the sweep names none.</summary>
    public static readonly string[] DefaultTrainMetrics = ["status", "final_train_loss", "steps_taken"];

    /// <summary>Runs task <paramref name="index"/>; <paramref name="execute"/> runs an lmech command line and returns its exit
    /// code.</summary>
    public static int Run(string dir, int index, Func<string[], int> execute)
    {
        var plan = SweepPlan.Read(dir);
        if (index < 0 || index >= plan.Tasks.Count)
            throw new BadInputException($"Task index {index} is outside the manifest's 0…{plan.Tasks.Count - 1}.");
        var task = plan.Tasks[index];
        var layout = new SweepLayout(dir);
        var started = DateTime.UtcNow;
        string host = Environment.MachineName;
        string job = SlurmJob();
        SweepLayout.WriteAtomically(layout.RunningFile(task.Hash), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["index"] = index, ["pid"] = Environment.ProcessId, ["host"] = host, ["slurm_job"] = job,
            ["started_utc"] = started.ToString("O"),
        }));
        string runDir = layout.RunDir(task.Hash);
        if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);   // a killed earlier attempt: start clean
        int code;
        string? reason = null;
        try { code = execute([.. task.Args, "--out", runDir]); }
        catch (Exception e) { code = 1; reason = $"{e.GetType().Name}: {e.Message}"; }
        string resultJson = Path.Combine(runDir, task.Args[0] == "train" ? "train" : task.Args[1],
            IsUnit(task) ? UnitFile : "result.json");
        if (code is 0 or 1 && File.Exists(resultJson))
        {
            try
            {
                var result = Extract(task, resultJson, plan.Metrics);
                SweepLayout.WriteAtomically(layout.ResultFile(task.Hash), Serialize(result));
                SweepLayout.WriteAtomically(layout.TimingFile(task.Hash), JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["host"] = host, ["slurm_job"] = job, ["started_utc"] = started.ToString("O"),
                    ["elapsed_s"] = Math.Round((DateTime.UtcNow - started).TotalSeconds, 3),
                }));
                File.Delete(layout.FailedFile(task.Hash));
                File.Delete(layout.RunningFile(task.Hash));
                return 0;
            }
            catch (BadInputException e) { reason = e.Message; code = 2; }
        }
        reason ??= File.Exists(resultJson) ? $"exit code {code}" : $"exit code {code}, no result.json";
        SweepLayout.WriteAtomically(layout.FailedFile(task.Hash), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["index"] = index, ["hash"] = task.Hash, ["exit_code"] = code, ["reason"] = reason, ["host"] = host, ["slurm_job"] = job,
            ["log"] = LogOf(layout, task.Hash, job),
        }));
        File.Delete(layout.RunningFile(task.Hash));
        return code == 0 ? 1 : code;
    }

    /// <summary>What <c>lmech run ID --unit KEY --out DIR</c> writes into <c>DIR/ID/</c>: the unit's measurement.</summary>
    public const string UnitFile = "unit.json";

    /// <summary>A unit of a grid experiment (<see cref="SweepUnitRunner"/>) rather than a whole run.</summary>
    private static bool IsUnit(SweepTask task) => task.Args[0] == "run" && task.Args.Contains("--unit");

    /// <summary>"jobid_taskid" inside a Slurm array task, "" elsewhere.</summary>
    private static string SlurmJob() =>
        Environment.GetEnvironmentVariable("SLURM_ARRAY_JOB_ID") is { Length: > 0 } a
            ? $"{a}_{Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID")}"
            : Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "";

    /// <summary>Where the task's output went: the local executor's per-task log or Slurm's array log.</summary>
    public static string LogOf(SweepLayout layout, string hash, string slurmJob) =>
        slurmJob.Length > 0 ? Path.Combine(layout.Logs, $"slurm-{slurmJob}.out") : layout.LogFile(hash);

    /// <summary>
    /// The metrics of a finished run. <c>train</c>: the numeric and text fields of its config (status, final_train_loss,
    /// steps_taken, …) plus final_loss and min_loss of its loss series. <c>run</c>: per claim, <c>&lt;id&gt;</c> = the measured
    /// value and <c>&lt;id&gt;.verdict</c>; a grid unit (<c>run --unit</c>): <c>measurement</c>. Named metrics the run lacks are an
    /// error naming the ones it has.
    /// </summary>
    public static SweepResult Extract(SweepTask task, string resultJson, IReadOnlyList<string> wanted)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(resultJson));
        var root = doc.RootElement;
        var all = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        string status;
        if (task.Args[0] == "train")
        {
            foreach (var p in root.GetProperty("config").EnumerateObject())
                all[p.Name] = double.TryParse(p.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                    ? Element(v) : p.Value.Clone();
            var loss = root.GetProperty("series").TryGetProperty("loss", out var l)
                ? l.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number).Select(e => e.GetDouble()).ToArray() : [];
            if (loss.Length > 0)
            {
                all["final_loss"] = Element(loss[^1]);
                all["min_loss"] = Element(loss.Min());
            }
            status = all.TryGetValue("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "completed";
        }
        else if (IsUnit(task))
        {
            all["measurement"] = root.GetProperty("measurement").Clone();
            status = "ran";
        }
        else
        {
            foreach (var c in root.GetProperty("claims").EnumerateArray())
            {
                string id = c.GetProperty("id").GetString()!;
                all[id] = c.GetProperty("measured").Clone();
                all[$"{id}.verdict"] = c.GetProperty("verdict").Clone();
            }
            status = "ran";
        }
        var names = wanted.Count > 0 ? wanted : task.Args[0] == "train" ? DefaultTrainMetrics : all.Keys.ToArray();
        var metrics = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (all.TryGetValue(name, out var v)) metrics[name] = v;
            else if (status == "diverged") metrics[name] = Element(double.NaN);   // a diverged run has no final loss: null
            else throw new BadInputException($"Metric '{name}' is not in the run's result. It has: {string.Join(", ", all.Keys)}.");
        }
        return new SweepResult(task.Index, task.Hash, task.Seed, task.Values, status, metrics);
    }

    private static JsonElement Element(double v)
    {
        using var d = JsonDocument.Parse(double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "null");
        return d.RootElement.Clone();
    }

    /// <summary>Canonical JSON of a result: fixed key order, round-trip numbers, so equal results are equal bytes.</summary>
    public static string Serialize(SweepResult r)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions
            { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("index", r.Index);
            w.WriteString("hash", r.Hash);
            w.WriteNumber("seed", r.Seed);
            w.WriteStartObject("values");
            foreach (var (k, v) in r.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteString("status", r.Status);
            w.WriteStartObject("metrics");
            foreach (var (k, v) in r.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WritePropertyName(k);
                v.WriteTo(w);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    /// <summary>Reads a result file written by <see cref="Serialize"/>; null when it is missing or unreadable.</summary>
    public static SweepResult? ReadResult(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var e = doc.RootElement;
            return new SweepResult(e.GetProperty("index").GetInt32(), e.GetProperty("hash").GetString()!, e.GetProperty("seed").GetUInt64(),
                e.GetProperty("values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
                e.GetProperty("status").GetString()!,
                e.GetProperty("metrics").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }
}
