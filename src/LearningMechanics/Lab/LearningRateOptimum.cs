using LearningMechanics.Numerics;

namespace LearningMechanics.Lab;

/// <summary>
/// The optimal learning rate on an equally spaced log₂ grid and how it moves with width (the measurement behind μP's
/// transfer claim, Yang et al. 2022, Fig. 1): per width the vertex of the parabola through the grid minimum of the seeds'
/// mean loss and its two neighbours, then a straight-line fit of the optima against log₂ width with a bootstrap SE over
/// seeds. A minimum at the grid's edge has no optimum inside the grid (null), never a fake one.
/// </summary>
public static class LearningRateOptimum
{
    /// <summary>The vertex in log₂ η, clamped to the neighbours; null when the minimum is at either end or the grid has
    /// fewer than three points.</summary>
    public static double? Vertex(IReadOnlyList<double> log2Lrs, IReadOnlyList<double> meanLoss)
    {
        if (log2Lrs.Count < 3) return null;
        int i = 0;
        for (int k = 1; k < meanLoss.Count; k++) if (meanLoss[k] < meanLoss[i]) i = k;
        if (i == 0 || i == log2Lrs.Count - 1) return null;
        double step = log2Lrs[i + 1] - log2Lrs[i];
        double fm = meanLoss[i - 1], f0 = meanLoss[i], fp = meanLoss[i + 1];
        double curvature = fm - 2 * f0 + fp;
        double shift = curvature > 0 ? 0.5 * (fm - fp) / curvature : 0;
        return log2Lrs[i] + step * Math.Clamp(shift, -1, 1);
    }

    /// <summary>Optima per width for the mean over <paramref name="seeds"/> of <c>loss[width][lr][seed]</c>, and their slope
    /// against log₂ width (null if any optimum is missing or there are fewer than two widths).</summary>
    public static (double? Slope, double?[] Optima) Fit(double[] log2Widths, double[] log2Lrs, double[][][] loss, int[] seeds)
    {
        var optima = loss.Select(w => Vertex(log2Lrs, w.Select(l => seeds.Average(s => l[s])).ToArray())).ToArray();
        if (optima.Length < 2 || optima.Any(o => o is null)) return (null, optima);
        var fit = Statistics.FitLine(log2Widths, optima.Select(o => o!.Value).ToArray(), [.. Enumerable.Repeat(1.0, optima.Length)]);
        return (fit.Slope, optima);
    }

    /// <summary><see cref="Fit"/> over all seeds, with the slope's SE from <paramref name="resamples"/> bootstrap resamples
    /// of the seeds (NaN with fewer than two usable resamples).</summary>
    public static (double? Slope, double Se, double?[] Optima) WithBootstrap(double[] log2Widths, double[] log2Lrs, double[][][] loss,
        int seedCount, Rng rng, int resamples = 200)
    {
        var (slope, optima) = Fit(log2Widths, log2Lrs, loss, [.. Enumerable.Range(0, seedCount)]);
        if (slope is null) return (null, double.NaN, optima);
        var reps = new List<double>();
        for (int b = 0; b < resamples; b++)
        {
            int[] pick = [.. Enumerable.Range(0, seedCount).Select(_ => rng.NextInt(seedCount))];
            if (Fit(log2Widths, log2Lrs, loss, pick).Slope is { } v) reps.Add(v);
        }
        return (slope, reps.Count > 1 ? Math.Sqrt(Statistics.Variance(reps.ToArray())) : double.NaN, optima);
    }
}
