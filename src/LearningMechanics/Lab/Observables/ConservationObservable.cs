using LearningMechanics.Measurement.Observables;

namespace LearningMechanics.Lab.Observables;

/// <summary>
/// <c>conservation</c>: the largest drift, since the first observation, of the per-neuron balance between incoming and
/// outgoing weights that gradient flow conserves (NaN for a network without hidden junctions).
/// </summary>
public sealed class ConservationObservable : ITrainingObservable
{
    private List<Conservation.Junction>? initial;

    public string Name => "conservation";

    public void Check(TrainingJob job) { }

    public void Record(Observation at)
    {
        var c = Conservation.Measure(at.Net);
        initial ??= c;
        double drift = 0;
        for (int j = 0; j < c.Count; j++)
            drift = Math.Max(drift, c[j].PerNeuron.Zip(initial[j].PerNeuron).Max(p => Math.Abs(p.First - p.Second)));
        at.Add("conservation_drift", c.Count == 0 ? double.NaN : drift);
    }
}
