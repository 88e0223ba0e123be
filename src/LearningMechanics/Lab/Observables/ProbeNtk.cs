using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Observables;

/// <summary>
/// The empirical NTK Θ̂ on the first 64 probe points, shared by the <c>ntk</c> and <c>ntk-top</c> observables: one
/// <see cref="EmpiricalNtk"/> (and one copy of the points) per training run; <see cref="Observation.ProbeNtk"/> computes Θ̂
/// at most once per observation step however many observables read it.
/// </summary>
public sealed class ProbeNtk(Network<double> net, Dataset probe)
{
    private EmpiricalNtk? ntk;

    public Dataset Points { get; } = probe.Take(64);

    internal Matrix Compute() => (ntk ??= new EmpiricalNtk(net, Points.Count)).Compute(Points.X);
}
