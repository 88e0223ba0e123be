using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LearningMechanics.Lab.Sweeps;

/// <summary>Resources asked of Slurm per array task, and the array throttle.</summary>
public sealed record SlurmOptions(string? Partition = null, int MaxParallel = 16, string? Time = null, string? Mem = null,
    int Cpus = 1);

/// <summary>Which Slurm array task ("jobid_index") ran each task index, from <c>slurm/submissions.jsonl</c>.</summary>
public static class SlurmSubmissions
{
    public static string File(SweepLayout layout) => Path.Combine(layout.Slurm, "submissions.jsonl");

    /// <summary>Task index → the array task of its latest submission.</summary>
    public static IReadOnlyDictionary<int, string> Read(SweepLayout layout)
    {
        var map = new Dictionary<int, string>();
        if (!System.IO.File.Exists(File(layout))) return map;
        foreach (var line in System.IO.File.ReadLines(File(layout)).Where(l => l.Length > 0))
        {
            try
            {
                using var d = JsonDocument.Parse(line);
                string job = d.RootElement.GetProperty("job").GetString()!;
                int k = 0;
                foreach (var t in d.RootElement.GetProperty("tasks").EnumerateArray()) map[t.GetInt32()] = $"{job}_{k++}";
            }
            catch (JsonException) { }   // a line cut by a crash while appending: its tasks show as pending
        }
        return map;
    }
}

/// <summary>
/// Sends tasks to Slurm as job arrays: one batch script per chunk of at most MaxArraySize tasks (read from
/// <c>scontrol show config</c>), <c>--array=0-(m−1)%k</c>, an index map from array index to task index, per-task logs
/// <c>logs/slurm-%A_%a.out</c>, submitted with <c>sbatch --parsable</c>. Each array task runs <c>lmech sweep task DIR
/// --index i</c> with one BLAS and one .NET worker thread per CPU asked, as the local executor does, so both give the same bytes.
/// </summary>
public static class SlurmExecutor
{
    public static bool Available() => Which("sbatch") is not null;

    /// <summary>Throws the error a user without Slurm sees; <paramref name="pathVariable"/> defaults to this process's PATH.</summary>
    public static void RequireSbatch(string? pathVariable = null)
    {
        if (Which("sbatch", pathVariable) is null)
            throw new BadInputException("--executor slurm needs 'sbatch' on PATH, and none was found. Install Slurm's client " +
                "commands (Debian: slurm-client) or use --executor local; scripts/slurm-local.sh starts a single-node cluster.");
    }

    /// <summary>Submits <paramref name="tasks"/>; returns the job ids. <paramref name="lmech"/> is how to start lmech.</summary>
    public static IReadOnlyList<string> Submit(string dir, SweepPlan plan, IReadOnlyList<int> tasks, SlurmOptions options,
        IReadOnlyList<string> lmech)
    {
        RequireSbatch();
        if (options.MaxParallel < 1) throw new BadInputException($"--max-parallel {options.MaxParallel} must be ≥ 1.");
        if (options.Cpus < 1) throw new BadInputException($"--cpus {options.Cpus} must be ≥ 1.");
        var layout = new SweepLayout(Path.GetFullPath(dir));
        layout.Create();
        int maxArray = MaxArraySize();
        var jobs = new List<string>();
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture);
        foreach (var (chunk, c) in tasks.Chunk(maxArray).Select((ch, i) => (ch, i)))
        {
            string map = Path.Combine(layout.Slurm, $"array-{stamp}-{c}.map");
            string script = Path.Combine(layout.Slurm, $"array-{stamp}-{c}.sbatch");
            System.IO.File.WriteAllLines(map, chunk.Select(i => i.ToString(CultureInfo.InvariantCulture)));
            System.IO.File.WriteAllText(script, Script(layout, plan.Name, chunk.Length, map, options, lmech));
            string home = Environment.GetEnvironmentVariable("HOME") ?? "/tmp";
            var (code, stdout, stderr) = Exec("sbatch", ["--parsable", $"--export=ALL,HOME={home}", script], 60);
            if (code != 0) throw new InvalidOperationException($"sbatch failed (exit {code}): {stderr.Trim()}");
            string job = stdout.Trim().Split(';')[0];
            jobs.Add(job);
            System.IO.File.AppendAllText(SlurmSubmissions.File(layout),
                JsonSerializer.Serialize(new Dictionary<string, object> { ["job"] = job, ["tasks"] = chunk, ["script"] = script }) + "\n");
        }
        return jobs;
    }

    private static string Script(SweepLayout layout, string name, int count, string map, SlurmOptions o, IReadOnlyList<string> lmech)
    {
        var sb = new StringBuilder("#!/bin/bash\n");
        sb.Append($"#SBATCH --job-name=lmech-{name}\n");
        sb.Append($"#SBATCH --array=0-{count - 1}%{o.MaxParallel}\n");
        sb.Append($"#SBATCH --output={layout.Logs}/slurm-%A_%a.out\n");
        sb.Append($"#SBATCH --cpus-per-task={o.Cpus}\n");
        if (o.Partition is { } p) sb.Append($"#SBATCH --partition={p}\n");
        if (o.Time is { } t) sb.Append($"#SBATCH --time={t}\n");
        if (o.Mem is { } m) sb.Append($"#SBATCH --mem={m}\n");
        sb.Append("# One BLAS and one .NET worker thread per CPU asked: the local executor does the same, so results are identical.\n");
        sb.Append($"export OPENBLAS_NUM_THREADS={o.Cpus} DOTNET_PROCESSOR_COUNT={o.Cpus}\n");
        sb.Append($"index=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" {Quote(map)})\n");
        sb.Append($"exec {string.Join(' ', lmech.Select(Quote))} sweep task {Quote(layout.Dir)} --index \"$index\"\n");
        return sb.ToString();
    }

    /// <summary>Polls the result files and squeue until no task of <paramref name="plan"/> is queued or running; progress counts
    /// finished (done or failed) tasks.</summary>
    public static void Wait(string dir, SweepPlan plan, double pollSeconds, IProgress<ProgressInfo>? progress = null,
        CancellationToken ct = default)
    {
        while (true)
        {
            var states = SweepStatus.Of(dir, plan, Queued());
            int finished = SweepStatus.Count(states, TaskState.Done) + SweepStatus.Count(states, TaskState.Failed);
            progress?.Report(new ProgressInfo($"slurm: {SweepStatus.Summary(states)}", finished, plan.Tasks.Count));
            if (!states.Any(s => s.State is TaskState.Queued or TaskState.Running)) return;
            Task.Delay(TimeSpan.FromSeconds(pollSeconds), ct).Wait(ct);
        }
    }

    /// <summary>The cluster's MaxArraySize (array indices must be below it); 1001, Slurm's default, when it cannot be read.</summary>
    public static int MaxArraySize()
    {
        var (code, stdout, _) = Exec("scontrol", ["show", "config"], 30);
        if (code == 0)
            foreach (var line in stdout.Split('\n'))
            {
                var parts = line.Split('=', 2);
                if (parts.Length == 2 && parts[0].Trim() == "MaxArraySize"
                    && int.TryParse(parts[1].Trim(), CultureInfo.InvariantCulture, out int v) && v > 0)
                    return v;
            }
        return 1001;
    }

    /// <summary>Array tasks ("jobid_index") that squeue lists, pending or running; null when squeue is not there.</summary>
    public static IReadOnlySet<string>? Queued()
    {
        if (Which("squeue") is null) return null;
        var (code, stdout, _) = Exec("squeue", ["-h", "-r", "-o", "%i"], 30);
        if (code != 0) return null;
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
    }

    private static string Quote(string s) =>
        s.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+=:,".Contains(c)) ? s : $"'{s.Replace("'", "'\\''")}'";

    private static string? Which(string name, string? pathVariable = null) =>
        (pathVariable ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(System.IO.File.Exists);

    private static (int Code, string Stdout, string Stderr) Exec(string file, string[] args, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutSeconds * 1000))
            {
                p.Kill(entireProcessTree: true);
                return (124, "", $"{file} timed out after {timeoutSeconds} s");
            }
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (127, "", e.Message); }
    }
}
