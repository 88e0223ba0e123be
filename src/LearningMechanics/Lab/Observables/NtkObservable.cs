using LearningMechanics.Measurement.Observables;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Observables;

/// <summary>
/// <c>ntk</c>: the empirical NTK on the first 64 probe points, its relative distance from the NTK at the first observation
/// and its alignment with the targets (first output component).
/// </summary>
public sealed class NtkObservable : ITrainingObservable
{
    private Matrix? initial;

    public string Name => "ntk";

    public void Check(TrainingJob job) { }

    public void Record(Observation at)
    {
        var x = at.Ntk.Points;
        var k = at.ProbeNtk();
        initial ??= k;
        at.Add("ntk_distance", EmpiricalNtk.Distance(initial, k));
        at.Add("ntk_alignment", EmpiricalNtk.Alignment(k, x.Y.Data.Where((_, i) => i % x.OutputDim == 0).ToArray()));
    }
}
