using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Training;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The gradient of a loss on one example of a data set at the network's current parameters (the loss on a batch of one, so
/// with its own per-example normalisation), the workspace allocated once: the per-example gradients behind the gradient
/// noise scale and SGD's expected conservation drift.
/// </summary>
public sealed class PerExampleGradient(Network<double> net, Dataset data, Loss loss)
{
    private readonly Network<double>.Workspace ws = net.CreateWorkspace(1);
    private readonly double[] dOut = new double[net.OutputDim];

    /// <summary>Writes ∂loss(example <paramref name="row"/>)/∂θ into <paramref name="grad"/> (overwritten).</summary>
    public void Into(int row, Span<double> grad)
    {
        loss.Evaluate<double>(net.Forward(data.X.Row(row), ws), data.Y.Row(row), 1, dOut);
        net.Backward(ws, dOut, grad);
    }
}
