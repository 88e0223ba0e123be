using LearningMechanics.Numerics;

namespace LearningMechanics.Tests;

/// <summary>Shared test inputs.</summary>
internal static class TestData
{
    /// <summary>A matrix of iid N(0, 1) entries from a fixed seed.</summary>
    public static Matrix RandomMatrix(int rows, int cols, ulong seed)
    {
        var m = new Matrix(rows, cols);
        new Rng(seed).FillGaussian(m.Data);
        return m;
    }

    /// <summary>The activations whose kernels are computed by quadrature (no closed form).</summary>
    public static IEnumerable<object[]> QuadratureActivations() =>
        new[] { "tanh", "sigmoid", "softplus", "silu", "elu" }.Select(n => new object[] { n });
}
