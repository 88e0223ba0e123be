using LearningMechanics.Training;

namespace LearningMechanics.Lab.Observables;

/// <summary><c>test</c>: the loss on the test data and, with one output per class, the test accuracy.</summary>
public sealed class TestObservable : ITrainingObservable
{
    public string Name => "test";

    public void Check(TrainingJob job)
    {
        if (job.Test is null) throw new BadInputException("Observable 'test' needs test data (--x-test/--y-test, or a built-in data set).");
    }

    public void Record(Observation at)
    {
        var test = at.Job.Test!;
        at.Add("test_loss", at.Job.Loss.Value<double>(Trainer<double>.Predict(at.Net, test.X).Data, test.Y.Data, test.Count));
        if (test.OutputDim >= 2) at.Add("test_accuracy", at.Accuracy(test));
    }
}
