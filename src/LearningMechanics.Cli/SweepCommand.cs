using System.CommandLine;
using System.Reflection;
using System.Text.Json;
using LearningMechanics.Lab.Sweeps;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech sweep plan|run|status|resume|collect|task</c> (README.md, "Sweeps"): grids of lmech runs on this machine or a
/// Slurm cluster, one atomic result file per task, resumable without losing or repeating a finished task.
/// </summary>
internal static class SweepCommand
{
    public static Command Build()
    {
        var cmd = new Command("sweep", "Grids of runs: plan, run (local or Slurm), status, resume, collect.");
        cmd.Subcommands.Add(Plan());
        cmd.Subcommands.Add(Execute("run", "Run the tasks that have not run yet.", includeFailed: false));
        cmd.Subcommands.Add(Execute("resume", "Run the missing and the failed tasks again (never a finished one).", includeFailed: true));
        cmd.Subcommands.Add(Status());
        cmd.Subcommands.Add(Collect());
        cmd.Subcommands.Add(Task());
        return cmd;
    }

    private static Argument<string> DirArgument() =>
        new("dir") { Description = "the sweep folder (from 'lmech sweep plan … --out DIR')" };

    private static Command Plan()
    {
        var file = new Argument<string>("file") { Description = "sweep file (JSON: command, base, axes, combine, seeds, metrics)" };
        var outDir = new Option<string>("--out") { Description = "sweep folder", Required = true };
        var cmd = new Command("plan", "Expand a sweep file into DIR/manifest.jsonl: one line per task (index, config, hash).")
            { file, outDir };
        cmd.SetAction(p =>
        {
            var plan = SweepPlan.From(SweepSpec.Load(p.GetValue(file)!));
            string dir = p.GetValue(outDir)!;
            bool written = plan.Write(dir);
            Console.WriteLine(written
                ? $"Planned {plan.Tasks.Count} tasks of sweep '{plan.Name}' into {Path.Combine(dir, "manifest.jsonl")}."
                : $"Sweep '{plan.Name}' is unchanged: reusing the {plan.Tasks.Count} tasks of {Path.Combine(dir, "manifest.jsonl")}.");
            return Lmech.Ok;
        });
        return cmd;
    }

    private static Command Execute(string name, string description, bool includeFailed)
    {
        var dir = DirArgument();
        var options = new ExecutorOptions("local");
        var cmd = new Command(name, description) { dir };
        options.AddTo(cmd);
        cmd.SetAction(p =>
        {
            string d = p.GetValue(dir)!;
            var plan = SweepPlan.Read(d);
            string kind = options.Kind(p)!;
            var states = SweepStatus.Of(d, plan, kind == "slurm" ? SlurmExecutor.Queued() : null);
            var todo = states.Where(s => s.State == TaskState.Pending || (includeFailed && s.State == TaskState.Failed))
                .Select(s => s.Task.Index).ToList();
            int skippedFailed = includeFailed ? 0 : SweepStatus.Count(states, TaskState.Failed);
            Console.WriteLine($"Sweep '{plan.Name}': {SweepStatus.Summary(states)}; {todo.Count} to run" +
                (skippedFailed > 0 ? $" ({skippedFailed} failed: 'lmech sweep resume' runs them again)." : "."));
            if (todo.Count == 0) return Lmech.Ok;
            if (kind == "slurm")
            {
                var ids = SlurmExecutor.Submit(d, plan, todo, options.Slurm(p), LmechCommand());
                Console.WriteLine($"Submitted {todo.Count} tasks as Slurm job array(s) {string.Join(", ", ids)}; " +
                    $"'lmech sweep status {d}' follows them.");
                return Lmech.Ok;
            }
            int failed = LocalExecutor.Run(d, plan, todo, options.Jobs(p), LmechCommand(), new ConsoleProgress($"sweep {plan.Name}"));
            var after = SweepStatus.Of(d, plan);
            Console.WriteLine($"Sweep '{plan.Name}': {SweepStatus.Summary(after)}.");
            PrintFailures(after);
            return failed > 0 ? Lmech.NotEvaluated : Lmech.Ok;
        });
        return cmd;
    }

    private static Command Status()
    {
        var dir = DirArgument();
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var cmd = new Command("status", "Count done, failed, running, queued and pending tasks (from the result files and squeue).")
            { dir, json };
        cmd.SetAction(p =>
        {
            string d = p.GetValue(dir)!;
            var plan = SweepPlan.Read(d);
            var states = SweepStatus.Of(d, plan, SlurmExecutor.Queued());
            if (p.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["sweep"] = plan.Name, ["tasks"] = plan.Tasks.Count,
                    ["done"] = SweepStatus.Count(states, TaskState.Done), ["failed"] = SweepStatus.Count(states, TaskState.Failed),
                    ["running"] = SweepStatus.Count(states, TaskState.Running), ["queued"] = SweepStatus.Count(states, TaskState.Queued),
                    ["pending"] = SweepStatus.Count(states, TaskState.Pending),
                    ["failures"] = states.Where(s => s.State == TaskState.Failed).Select(s => new Dictionary<string, object?>
                        { ["index"] = s.Task.Index, ["hash"] = s.Task.Hash, ["reason"] = s.Reason, ["log"] = s.Log }).ToList(),
                }, Lmech.Json));
                return Lmech.Ok;
            }
            Console.WriteLine($"Sweep '{plan.Name}': {SweepStatus.Summary(states)}.");
            PrintFailures(states);
            return Lmech.Ok;
        });
        return cmd;
    }

    private static void PrintFailures(IReadOnlyList<Lab.Sweeps.TaskStatus> states)
    {
        foreach (var s in states.Where(s => s.State == TaskState.Failed))
            Console.WriteLine($"  failed: task {s.Task.Index} ({string.Join(", ", s.Task.Values.Select(kv => $"{kv.Key}={kv.Value}"))}, " +
                $"seed {s.Task.Seed}): {s.Reason}; log {s.Log}");
    }

    private static Command Collect()
    {
        var dir = DirArgument();
        var cmd = new Command("collect", "Merge the finished results into DIR/results.db and write DIR/report.html.") { dir };
        cmd.SetAction(p =>
        {
            string d = p.GetValue(dir)!;
            int n = SweepCollector.Collect(d);
            Console.WriteLine($"Collected {n} results into {Path.Combine(d, "results.db")} (table sweep_results); " +
                $"report {Path.GetFullPath(Path.Combine(d, "report.html"))}.");
            return Lmech.Ok;
        });
        return cmd;
    }

    private static Command Task()
    {
        var dir = DirArgument();
        var index = new Option<int>("--index") { Description = "task index in the manifest", Required = true };
        var cmd = new Command("task", "Run one task of a sweep (what the executors start; Slurm passes $SLURM_ARRAY_TASK_ID's task).")
            { dir, index };
        cmd.SetAction(p => SweepTaskRunner.Run(p.GetValue(dir)!, p.GetValue(index), Lmech.Execute));
        return cmd;
    }

    /// <summary>
    /// How to start this lmech again in a child process or a batch job: <c>LMECH_EXE</c> when set (words separated by
    /// spaces, e.g. "dotnet /opt/lmech/lmech.dll"), else this process's executable (and its entry assembly under dotnet).
    /// </summary>
    internal static IReadOnlyList<string> LmechCommand()
    {
        if (Environment.GetEnvironmentVariable("LMECH_EXE") is { Length: > 0 } exe)
            return exe.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string path = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell how this lmech was started.");
        return Path.GetFileNameWithoutExtension(path) == "dotnet" && Assembly.GetEntryAssembly()?.Location is { Length: > 0 } dll
            ? [path, dll]
            : [path];
    }
}

/// <summary>The executor options shared by <c>lmech sweep run|resume</c> and <c>lmech run --executor</c>.</summary>
/// <param name="defaultKind">The executor when --executor is not given (null: none, the run stays in this process).</param>
internal sealed class ExecutorOptions(string? defaultKind)
{
    private readonly Option<string?> executor = new("--executor")
        { Description = "local or slurm", DefaultValueFactory = _ => defaultKind };
    private readonly Option<int> jobs = new("--jobs")
        { Description = "local: tasks at once (one thread each)", DefaultValueFactory = _ => Environment.ProcessorCount };
    private readonly Option<string?> partition = new("--partition") { Description = "slurm: partition" };
    private readonly Option<int> maxParallel = new("--max-parallel")
        { Description = "slurm: array tasks running at once (%k)", DefaultValueFactory = _ => 16 };
    private readonly Option<string?> time = new("--time") { Description = "slurm: time limit per task, e.g. 01:00:00" };
    private readonly Option<string?> mem = new("--mem") { Description = "slurm: memory per task, e.g. 4G" };
    private readonly Option<int> cpus = new("--cpus") { Description = "slurm: CPUs per task", DefaultValueFactory = _ => 1 };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { executor, jobs, partition, maxParallel, time, mem, cpus }) cmd.Options.Add(o);
    }

    /// <summary>"local", "slurm" or null (none given and no default); anything else is bad input.</summary>
    public string? Kind(ParseResult p)
    {
        string? kind = p.GetValue(executor)?.Trim().ToLowerInvariant();
        if (kind is not (null or "local" or "slurm"))
            throw new BadInputException($"--executor '{kind}' is not allowed. Allowed: local, slurm.");
        return kind;
    }

    public int Jobs(ParseResult p) => p.GetValue(jobs);

    public SlurmOptions Slurm(ParseResult p) =>
        new(p.GetValue(partition), p.GetValue(maxParallel), p.GetValue(time), p.GetValue(mem), p.GetValue(cpus));
}
