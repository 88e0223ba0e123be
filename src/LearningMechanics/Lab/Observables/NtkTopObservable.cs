using LearningMechanics.Measurement.Observables;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Observables;

/// <summary>
/// <c>ntk-top</c>: the three largest eigenvalues of the empirical NTK Θ̂ (first output) on the first 64 probe points, the
/// quantity whose trajectory is width-independent under μP and not under NTK parameterisation (Lauditi et al. 2026); at an
/// interpolating minimum of the MSE the Hessian's nonzero eigenvalues are Θ̂'s, scaled by the loss's normalisation.
/// </summary>
public sealed class NtkTopObservable : ITrainingObservable
{
    public string Name => "ntk-top";

    public void Check(TrainingJob job) { }

    public void Record(Observation at)
    {
        var (values, _) = Lapack.SymmetricEigen(at.ProbeNtk());
        for (int k = 1; k <= Math.Min(3, values.Length); k++) at.Add($"ntk_top{k}", values[^k]);
    }
}
