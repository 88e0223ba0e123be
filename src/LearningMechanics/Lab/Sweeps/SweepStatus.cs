using System.Text.Json;

namespace LearningMechanics.Lab.Sweeps;

/// <summary>Where a task stands.</summary>
public enum TaskState { Pending, Queued, Running, Done, Failed }

/// <summary>A task's state, with the reason and log of a failure.</summary>
public sealed record TaskStatus(SweepTask Task, TaskState State, string? Reason = null, string? Log = null);

/// <summary>
/// The state of every task from the files alone (no accounting database): done = a readable result file; failed = a
/// failure file, or a running sentinel whose process is gone (killed, cancelled, node lost: "interrupted"); running = a
/// sentinel whose process lives (same host, pid alive) or whose Slurm array task is in <c>squeue</c>; queued = submitted
/// to Slurm and waiting; pending = none of these.
/// </summary>
public static class SweepStatus
{
    /// <param name="queued">Slurm array tasks ("jobid_index") in squeue, or null without Slurm.</param>
    public static IReadOnlyList<TaskStatus> Of(string dir, SweepPlan plan, IReadOnlySet<string>? queued = null)
    {
        var layout = new SweepLayout(dir);
        var submitted = SlurmSubmissions.Read(layout);
        var list = new List<TaskStatus>();
        foreach (var t in plan.Tasks)
        {
            if (SweepTaskRunner.ReadResult(layout.ResultFile(t.Hash)) is { } r && r.Hash == t.Hash)
            {
                list.Add(new TaskStatus(t, TaskState.Done));
                continue;
            }
            string? slurmTask = submitted.TryGetValue(t.Index, out var s) ? s : null;
            bool inQueue = slurmTask is not null && queued is not null && queued.Contains(slurmTask);
            if (ReadJson(layout.RunningFile(t.Hash)) is { } run)
            {
                string job = Text(run, "slurm_job");
                bool alive = job.Length > 0
                    ? queued is not null && queued.Contains(job)
                    : Text(run, "host") == Environment.MachineName && ProcessAlive(run.GetProperty("pid").GetInt32());
                list.Add(alive
                    ? new TaskStatus(t, TaskState.Running)
                    : new TaskStatus(t, TaskState.Failed, "interrupted: the task stopped without a result (killed or cancelled)",
                        SweepTaskRunner.LogOf(layout, t.Hash, job)));
                continue;
            }
            if (ReadJson(layout.FailedFile(t.Hash)) is { } f)
            {
                list.Add(new TaskStatus(t, TaskState.Failed, Text(f, "reason"), Text(f, "log")));
                continue;
            }
            list.Add(new TaskStatus(t, inQueue ? TaskState.Queued : TaskState.Pending));
        }
        return list;
    }

    /// <summary>"N done, N failed, N running, N queued, N pending of N".</summary>
    public static string Summary(IReadOnlyList<TaskStatus> all) =>
        $"{Count(all, TaskState.Done)} done, {Count(all, TaskState.Failed)} failed, {Count(all, TaskState.Running)} running, " +
        $"{Count(all, TaskState.Queued)} queued, {Count(all, TaskState.Pending)} pending of {all.Count}";

    public static int Count(IReadOnlyList<TaskStatus> all, TaskState s) => all.Count(t => t.State == s);

    private static bool ProcessAlive(int pid)
    {
        // /proc/<pid>/stat: state "Z" is a zombie (dead, not yet reaped).
        string stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat)) return false;
        try
        {
            string text = File.ReadAllText(stat);
            int close = text.LastIndexOf(')');
            return close > 0 && close + 2 < text.Length && text[close + 2] != 'Z';
        }
        catch (IOException) { return false; }
    }

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var d = JsonDocument.Parse(File.ReadAllText(path));
            return d.RootElement.Clone();
        }
        catch (Exception e) when (e is JsonException or IOException) { return null; }
    }

    private static string Text(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
}
