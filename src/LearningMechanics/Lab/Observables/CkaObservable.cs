using LearningMechanics.Measurement.Observables;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Observables;

/// <summary><c>cka</c>: linear CKA between the penultimate representation of the probe set now and at the first observation.</summary>
public sealed class CkaObservable : ITrainingObservable
{
    private Matrix? initial;

    public string Name => "cka";

    public void Check(TrainingJob job) { }

    public void Record(Observation at)
    {
        var h = Representations.Penultimate(at.Net, at.Probe.X);
        initial ??= h;
        at.Add("cka_to_init", Cka.Linear(initial, h));
    }
}
