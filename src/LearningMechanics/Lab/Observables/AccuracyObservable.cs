namespace LearningMechanics.Lab.Observables;

/// <summary><c>accuracy</c>: the fraction of training points classified right (largest output = target class).</summary>
public sealed class AccuracyObservable : ITrainingObservable
{
    public string Name => "accuracy";

    public void Check(TrainingJob job)
    {
        if (job.Train.OutputDim < 2) throw new BadInputException("Observable 'accuracy' needs one output per class.");
    }

    public void Record(Observation at) => at.Add("train_accuracy", at.Accuracy(at.Job.Train));
}
