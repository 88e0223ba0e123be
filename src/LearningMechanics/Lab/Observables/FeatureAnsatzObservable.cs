using LearningMechanics.Measurement.Observables;

namespace LearningMechanics.Lab.Observables;

/// <summary><c>nfa</c>: the neural feature ansatz, cosine and Pearson correlation of WᵀW with the AGOP on the probe set.</summary>
public sealed class FeatureAnsatzObservable : ITrainingObservable
{
    public string Name => "nfa";

    public void Check(TrainingJob job) { }

    public void Record(Observation at)
    {
        var r = FeatureAnsatz.Measure(at.Net, at.Probe.X);
        at.Add("nfa_cosine", r.Cosine);
        at.Add("nfa_pearson", r.Pearson);
    }
}
