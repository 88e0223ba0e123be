using System.Diagnostics;
using System.Globalization;

namespace LearningMechanics.Lab.Sweeps;

/// <summary>
/// Runs tasks on this machine, a given number of child processes at a time, each <c>lmech sweep task DIR --index i</c>
/// with one BLAS and one .NET worker thread (as a Slurm array task with one CPU), its output in <c>logs/&lt;hash&gt;.log</c>.
/// Separate processes isolate a crashing task, and a killed executor loses nothing: every result is already its own file,
/// and <c>lmech sweep resume</c> runs what is missing.
/// </summary>
public static class LocalExecutor
{
    /// <summary>Runs the tasks and returns how many failed; progress reports done (finished or failed) of the total.</summary>
    public static int Run(string dir, SweepPlan plan, IReadOnlyList<int> tasks, int jobs, IReadOnlyList<string> lmech,
        IProgress<ProgressInfo>? progress = null, CancellationToken ct = default)
    {
        if (jobs < 1) throw new BadInputException($"--jobs {jobs} must be ≥ 1.");
        var layout = new SweepLayout(Path.GetFullPath(dir));
        layout.Create();
        int done = 0;
        int failed = 0;
        Parallel.ForEach(tasks, new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = ct }, index =>
        {
            var task = plan.Tasks[index];
            var psi = new ProcessStartInfo(lmech[0])
                { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in lmech.Skip(1)) psi.ArgumentList.Add(a);
            foreach (var a in new[] { "sweep", "task", layout.Dir, "--index", index.ToString(CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(a);
            psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
            psi.Environment["DOTNET_PROCESSOR_COUNT"] = "1";
            using var log = new StreamWriter(layout.LogFile(task.Hash), append: true) { AutoFlush = true };
            using var p = new Process { StartInfo = psi };
            p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            p.Start();
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            using (ct.Register(() => { try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
                p.WaitForExit();
            if (p.ExitCode != 0) Interlocked.Increment(ref failed);
            progress?.Report(new ProgressInfo($"sweep {plan.Name} ({Volatile.Read(ref failed)} failed)",
                Interlocked.Increment(ref done), tasks.Count));
        });
        return failed;
    }
}
