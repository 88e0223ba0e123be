using LearningMechanics.Measurement.Observables;

namespace LearningMechanics.Lab.Observables;

/// <summary><c>collapse</c>: the neural-collapse metrics NC1–NC4 of the penultimate features on the probe set.</summary>
public sealed class NeuralCollapseObservable : ITrainingObservable
{
    public string Name => "collapse";

    public void Check(TrainingJob job)
    {
        if (job.Train.Labels is null)
            throw new BadInputException("Observable 'collapse' needs class labels (cross-entropy on one-hot targets).");
    }

    public void Record(Observation at)
    {
        var r = NeuralCollapse.Measure(at.Net, at.Probe.X, at.Probe.Labels!, at.Probe.Classes);
        at.Add("nc1", r.Nc1);
        at.Add("nc2", r.Nc2);
        at.Add("nc3", r.Nc3);
        at.Add("nc4", r.Nc4);
    }
}
