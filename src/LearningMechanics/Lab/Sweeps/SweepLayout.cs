namespace LearningMechanics.Lab.Sweeps;

/// <summary>
/// The files of a sweep folder. Every task owns its files (named by its hash), so no two processes ever write the same
/// file and no shared database is touched while tasks run (SQLite is unsafe on network file systems):
/// <c>manifest.jsonl</c>; <c>results/&lt;hash&gt;.json</c> (deterministic: config and metrics, bit-identical whichever
/// executor ran it); <c>timing/&lt;hash&gt;.json</c> (host, job, seconds); <c>failed/&lt;hash&gt;.json</c> (exit code,
/// reason, log); <c>running/&lt;hash&gt;.json</c> (a sentinel while the task runs); <c>logs/</c>; <c>runs/&lt;hash&gt;/</c>
/// (the run's own folder: result.json, report, CSV); <c>slurm/</c> (batch scripts, index maps, job ids).
/// </summary>
public sealed class SweepLayout(string dir)
{
    public string Dir { get; } = dir;
    public string Manifest => Path.Combine(Dir, "manifest.jsonl");
    public string Results => Path.Combine(Dir, "results");
    public string Timing => Path.Combine(Dir, "timing");
    public string Failed => Path.Combine(Dir, "failed");
    public string Running => Path.Combine(Dir, "running");
    public string Logs => Path.Combine(Dir, "logs");
    public string Runs => Path.Combine(Dir, "runs");
    public string Slurm => Path.Combine(Dir, "slurm");
    public string Database => Path.Combine(Dir, Runner.DatabaseFile);

    public string ResultFile(string hash) => Path.Combine(Results, hash + ".json");
    public string TimingFile(string hash) => Path.Combine(Timing, hash + ".json");
    public string FailedFile(string hash) => Path.Combine(Failed, hash + ".json");
    public string RunningFile(string hash) => Path.Combine(Running, hash + ".json");
    public string LogFile(string hash) => Path.Combine(Logs, hash + ".log");
    public string RunDir(string hash) => Path.Combine(Runs, hash);

    public void Create()
    {
        foreach (var d in new[] { Dir, Results, Timing, Failed, Running, Logs, Runs, Slurm }) Directory.CreateDirectory(d);
    }

    /// <summary>
    /// Writes a file so that readers see either nothing or the whole content: a temporary file in the same folder, flushed,
    /// then renamed over the target (rename is atomic within a file system, also on NFS for a single client).
    /// </summary>
    public static void WriteAtomically(string path, string content)
    {
        string tmp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        using (var f = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(content);
            f.Write(bytes);
            f.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
