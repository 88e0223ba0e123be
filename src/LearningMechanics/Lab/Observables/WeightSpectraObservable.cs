using LearningMechanics.Measurement.Observables;

namespace LearningMechanics.Lab.Observables;

/// <summary>
/// <c>weights</c>: per weight matrix (both sides ≥ 2) the top singular value, the number of outliers above the
/// Marchenko–Pastur bulk, the fitted bulk variance and the power-law tail exponent; plots the final spectra.
/// </summary>
public sealed class WeightSpectraObservable : ITrainingObservable
{
    private List<WeightSpectrum>? last;

    public string Name => "weights";

    public void Check(TrainingJob job) { }

    public void Record(Observation at)
    {
        var net = at.Net;
        last = Enumerable.Range(0, net.DenseCount)
            .Where(d => Math.Min(net.Tensors[2 * d].Shape[0], net.Tensors[2 * d].Shape[1]) >= 2)
            .Select(d => WeightSpectrum.Analyse(net.Tensors[2 * d].Name, net.EffectiveWeight(d))).ToList();
        foreach (var s in last)
        {
            string layer = s.Name.Replace(".weight", "", StringComparison.Ordinal).Replace("layers.", "layer", StringComparison.Ordinal);
            at.Add($"{layer}_top_sv", s.SingularValues[0]);
            at.Add($"{layer}_outliers", s.Outliers.Length);
            at.Add($"{layer}_mp_sigma2", s.Sigma2);
            at.Add($"{layer}_tail_alpha", s.TailAlpha);
        }
    }

    public IEnumerable<PlotSpec> Plots()
    {
        if (last is null) yield break;
        foreach (var s in last.Where(s => s.Eigenvalues.Length >= 8))
        {
            var sorted = s.Eigenvalues.OrderBy(v => v).ToArray();
            var rank = Enumerable.Range(1, sorted.Length).Select(i => (double)i).ToArray();
            yield return new PlotSpec($"Final spectrum of {s.Name}", "eigenvalue λ = s²/n", "rank (ascending)",
                [new SeriesSpec("eigenvalues", sorted, rank, SeriesKind.Points)],
                Caption: $"MP fit σ² = {s.Sigma2:G4}, bulk edge {s.BulkEdge:G4}, {s.Outliers.Length} outliers, tail α = " +
                    $"{s.TailAlpha:G3}.");
        }
    }
}
