using System.Globalization;
using System.Text.Json;

namespace LearningMechanics.Lab.Sweeps;

/// <summary>Which executor runs a grid experiment's units, with its options.</summary>
/// <param name="Kind">"local" or "slurm".</param>
/// <param name="Dir">The sweep folder; null: <c>OUT/&lt;id&gt;/units-&lt;hash&gt;</c>, one per (seed, mode, settings).</param>
public sealed record UnitExecutor(string Kind, int Jobs, SlurmOptions Slurm, IReadOnlyList<string> Lmech, string? Dir = null,
    double PollSeconds = 2)
{
    /// <summary>Runs the missing and failed tasks of a planned sweep: here, or submitted as job arrays and waited for (queued and
    /// running tasks are waited for, never submitted again).</summary>
    public void Complete(string dir, SweepPlan plan, IProgress<ProgressInfo>? progress = null, CancellationToken ct = default)
    {
        if (Kind is not ("local" or "slurm")) throw new BadInputException($"--executor '{Kind}' is not allowed. Allowed: local, slurm.");
        if (Kind == "slurm") SlurmExecutor.RequireSbatch();
        var queued = Kind == "slurm" ? SlurmExecutor.Queued() : null;
        var todo = SweepStatus.Of(dir, plan, queued).Where(s => s.State is TaskState.Pending or TaskState.Failed)
            .Select(s => s.Task.Index).ToList();
        if (Kind == "local")
            LocalExecutor.Run(dir, plan, todo, Jobs, Lmech, progress, ct);
        else
        {
            if (todo.Count > 0) SlurmExecutor.Submit(dir, plan, todo, Slurm, Lmech);
            SlurmExecutor.Wait(dir, plan, PollSeconds, progress, ct);
        }
    }
}

/// <summary>
/// Runs a grid experiment's units (<see cref="IGridExperiment"/>) through the sweep engine: one task per unit,
/// <c>lmech run ID --unit KEY --seed S [--full] --set k=v …</c> with every setting spelled out, planned into a sweep folder,
/// executed by the local executor or as Slurm job arrays (waiting for them), and read back from the tasks' result files.
/// Running the same command again reuses the folder: finished units are kept, failed and missing ones run again, queued
/// and running ones are waited for, so an interrupted <c>lmech run --executor slurm</c> loses nothing.
/// </summary>
public sealed class SweepUnitRunner(UnitExecutor executor, string outDir, IProgress<ProgressInfo>? progress = null) : IUnitRunner
{
    /// <summary>The folder the units of this run go to.</summary>
    public string FolderFor(IGridExperiment experiment, RunContext context) =>
        executor.Dir ?? Path.Combine(outDir, experiment.Id, $"units-{SweepPlan.Hash(BaseArguments(experiment, context))[..8]}");

    public IReadOnlyDictionary<string, JsonElement> MeasureAll(IGridExperiment experiment, RunContext context,
        IReadOnlyList<string> units)
    {
        string dir = FolderFor(experiment, context);
        var plan = Plan(experiment, context, units);
        plan.Write(dir);
        executor.Complete(dir, plan, progress, context.Cancellation);
        var states = SweepStatus.Of(dir, plan, executor.Kind == "slurm" ? SlurmExecutor.Queued() : null);
        var bad = states.Where(s => s.State != TaskState.Done).ToList();
        if (bad.Count > 0)
            throw new UnitsFailedException($"{bad.Count} of {units.Count} units of {experiment.Id} did not finish (sweep folder {dir}):" +
                string.Concat(bad.Take(5).Select(s => $"\n  {s.Task.Values["unit"]}: {s.State.ToString().ToLowerInvariant()}" +
                    (s.Reason is null ? "" : $", {s.Reason}") + (s.Log is null ? "" : $"; log {s.Log}"))) +
                "\nThe finished units are kept; run the same command again to retry the others.");
        var layout = new SweepLayout(dir);
        return plan.Tasks.ToDictionary(t => t.Values["unit"],
            t => SweepTaskRunner.ReadResult(layout.ResultFile(t.Hash))!.Metrics["measurement"]);
    }

    /// <summary>The sweep of one task per unit; its name and arguments carry the experiment, seed, mode and every setting.</summary>
    public static SweepPlan Plan(IGridExperiment experiment, RunContext context, IReadOnlyList<string> units)
    {
        var head = BaseArguments(experiment, context);
        var tasks = units.Select((u, i) =>
        {
            string[] args = [.. head.Take(2), "--unit", u, .. head.Skip(2)];
            return new SweepTask(i, SweepPlan.Hash(args), context.Seed, new SortedDictionary<string, string> { ["unit"] = u }, args);
        }).ToList();
        return new SweepPlan($"{experiment.Id}-units", ["unit"], ["measurement"], tasks);
    }

    private static string[] BaseArguments(IGridExperiment experiment, RunContext context)
    {
        var args = new List<string> { "run", experiment.Id, "--seed", context.Seed.ToString(CultureInfo.InvariantCulture) };
        if (context.Mode == RunMode.Full) args.Add("--full");
        foreach (var (k, v) in context.Settings.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal)) args.AddRange(["--set", $"{k}={v}"]);
        return [.. args];
    }
}
