using LearningMechanics.Measurement.Observables;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Observables;

/// <summary>
/// <c>density</c>: the Hessian's spectral density by stochastic Lanczos quadrature (4 probes × 30 steps); records its mean
/// eigenvalue and plots the densities at the first and the last observation.
/// </summary>
public sealed class HessianDensityObservable : ITrainingObservable
{
    /// <summary>Random stream (with the step as second part) of the Lanczos start vectors.</summary>
    private const ulong Stream = 9;

    private SpectralDensity? first;
    private SpectralDensity? last;

    public string Name => "density";

    public void Check(TrainingJob job) { }

    public void Record(Observation at)
    {
        var dens = new Hessian(at.Net, at.Probe, at.Job.Loss).Density(4, 30, new Rng(at.Job.Seed).Split(Stream, (ulong)at.Step));
        first ??= dens;
        last = dens;
        at.Add("hessian_mean_eigenvalue", dens.Integrate(t => t));
    }

    public IEnumerable<PlotSpec> Plots()
    {
        if (first is null || last is null) yield break;
        double lo = Math.Min(first.Nodes.Min(), last.Nodes.Min());
        double hi = Math.Max(first.Nodes.Max(), last.Nodes.Max());
        double width = Math.Max(hi - lo, 1e-12);
        double sigma = width / 100;
        var grid = Enumerable.Range(0, 400).Select(i => lo - 0.05 * width + 1.1 * width * i / 399).ToArray();
        yield return new PlotSpec("Hessian spectral density (stochastic Lanczos quadrature)", "eigenvalue", "density",
        [
            new SeriesSpec("initial: density", grid, grid.Select(t => first.At(t, sigma)).ToArray(), SeriesKind.Line),
            new SeriesSpec("final: density", grid, grid.Select(t => last.At(t, sigma)).ToArray(), SeriesKind.Line),
        ], Caption: $"4 random probes × 30 Lanczos steps each, Gaussian smoothing σ = {sigma:G3}; ≤ 256 training points.");
    }
}
