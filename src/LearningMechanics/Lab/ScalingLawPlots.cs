namespace LearningMechanics.Lab;

/// <summary>The figures of a scaling-law fit: loss against model size with the fitted curves, and iso-loss contours in the
/// (N, D) plane with the compute-optimal frontier (as in Hoffmann et al. 2022).</summary>
public static class ScalingLawPlots
{
    public static IReadOnlyList<PlotSpec> Of(ScalingLaw law, double[] n, double[] d, double[] loss, IReadOnlyCollection<int> held)
    {
        var fitted = Enumerable.Range(0, n.Length).Where(i => !held.Contains(i)).ToList();
        double nMin = n.Min(), nMax = n.Max(), dMin = d.Min(), dMax = d.Max();
        double[] nGrid = Geometric(nMin / 2, nMax * 2, 60);
        double[] dGrid = Geometric(dMin / 2, dMax * 2, 60);
        var curves = new List<SeriesSpec>
        {
            new("fitted runs", [.. fitted.Select(i => n[i])], [.. fitted.Select(i => loss[i])], SeriesKind.Points),
        };
        if (held.Count > 0)
            curves.Add(new SeriesSpec("held-out runs", [.. held.Select(i => n[i])], [.. held.Select(i => loss[i])], SeriesKind.Points));
        double[] sortedD = [.. d.Order()];
        foreach (double dv in new[] { sortedD[0], sortedD[sortedD.Length / 2], sortedD[^1] }.Distinct())
            curves.Add(new SeriesSpec($"fit at D = {dv:G3}", nGrid, [.. nGrid.Select(x => law.Loss(x, dv))], SeriesKind.Line,
                Dashed: true));
        var contour = new List<SeriesSpec>
        {
            new("runs", n, d, SeriesKind.Points),
        };
        double lo = loss.Min(), hi = loss.Max();
        foreach (double level in Geometric(Math.Max(lo, law.E * 1.001), hi, 5))
        {
            // D(N) on the iso-loss line: B/D^β = level − E − A/N^α where that is positive.
            var pts = nGrid.Select(x => (N: x, Left: level - law.E - law.A * Math.Pow(x, -law.Alpha)))
                .Where(t => t.Left > 0).Select(t => (t.N, D: Math.Pow(law.B / t.Left, 1 / law.Beta)))
                .Where(t => t.D <= dMax * 100 && t.D >= dMin / 100).ToList();
            if (pts.Count > 1)
                contour.Add(new SeriesSpec($"L = {level:G3}", [.. pts.Select(t => t.N)], [.. pts.Select(t => t.D)], SeriesKind.Line,
                    Dashed: true));
        }
        double[] compute = Geometric(6 * n.Zip(d).Min(t => t.First * t.Second), 6 * n.Zip(d).Max(t => t.First * t.Second) * 10, 40);
        contour.Add(new SeriesSpec("compute-optimal frontier", [.. compute.Select(law.OptimalParameters)],
            [.. compute.Select(c => c / (6 * law.OptimalParameters(c)))], SeriesKind.Line));
        return
        [
            new PlotSpec("Loss against model size N", "N", "loss", curves, LogX: true, LogY: true,
                Caption: $"Points: the runs; dashed: L = E + A/N^α + B/D^β at three data sizes (E = {law.E:G3}, α = {law.Alpha:G3}, " +
                    $"β = {law.Beta:G3})."),
            new PlotSpec("Iso-loss contours and the compute-optimal frontier", "N", "D", contour, LogX: true, LogY: true,
                Caption: $"Solid: (N_opt, D_opt) for C = 6ND, N_opt ∝ C^{law.ParameterExponent:G3} (Hoffmann et al. 2022, eq. 4)."),
        ];
    }

    private static double[] Geometric(double from, double to, int count) =>
        [.. Enumerable.Range(0, count).Select(i => from * Math.Pow(to / from, count == 1 ? 0 : i / (count - 1.0)))];
}
