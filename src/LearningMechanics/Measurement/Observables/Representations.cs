using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Observables;

/// <summary>Reading a network's internal representations on a data set.</summary>
public static class Representations
{
    /// <summary>The buffer <paramref name="index"/> (0 = input, see <see cref="Network{T}.DenseInputIndex"/>) for every row of x.</summary>
    public static Matrix At(Network<double> net, Matrix x, int index)
    {
        var ws = net.CreateWorkspace(x.Rows);
        net.Forward(x.Data, ws);
        var a = ws.Activations(index);
        return new Matrix(x.Rows, a.Length / x.Rows, a.ToArray());
    }

    /// <summary>The penultimate features: the input of the readout layer.</summary>
    public static Matrix Penultimate(Network<double> net, Matrix x) => At(net, x, net.DenseInputIndex(net.DenseCount - 1));
}
