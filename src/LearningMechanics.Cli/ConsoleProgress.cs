using System.Diagnostics;

namespace LearningMechanics.Cli;

/// <summary>
/// Progress on standard error: an updating line with percentage and ETA on a terminal, a plain line at most
/// every few seconds otherwise (logs, CI).
/// </summary>
internal sealed class ConsoleProgress(string label) : IProgress<ProgressInfo>
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly bool tty = !Console.IsErrorRedirected;
    private readonly Lock gate = new();
    private double lastPrint = double.NegativeInfinity;

    public void Report(ProgressInfo p)
    {
        lock (gate)
        {
            double t = clock.Elapsed.TotalSeconds;
            double frac = p.Total > 0 ? (double)p.Done / p.Total : 0;
            bool finished = p.Done >= p.Total;
            if (!finished && t - lastPrint < (tty ? 0.25 : 5)) return;
            lastPrint = t;
            string eta = frac > 0.02 && !finished ? $", ETA {TimeSpan.FromSeconds(t / frac - t):mm\\:ss}" : "";
            string line = $"[{label}] {p.Stage}: {100 * frac:F0}% ({t:F0} s{eta})";
            if (tty) Console.Error.Write("\r" + line.PadRight(72) + (finished ? "\n" : ""));
            else Console.Error.WriteLine(line);
        }
    }
}
