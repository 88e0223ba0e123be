using LearningMechanics.Numerics;

namespace LearningMechanics.Data;

/// <summary>
/// A linear regression task with a chosen input–output singular spectrum, the setting of Saxe et al. 2014: whitened inputs
/// (Σ^{xx} = (1/P)·Σ_μ x_μx_μᵀ = I exactly) and targets y = Σ^{yx}x with Σ^{yx} = Σ_α s_α·u_α·v_αᵀ.
/// </summary>
/// <param name="Data">The P = 2·d_in points: x = ±√d_in·q_i for the rows q_i of a random orthogonal matrix, so the inputs also
/// have mean zero and biases receive no gradient.</param>
/// <param name="OutputModes">u_α as the columns of a d_out × r matrix with orthonormal columns.</param>
/// <param name="InputModes">v_α as the columns of a d_in × r matrix with orthonormal columns.</param>
/// <param name="SingularValues">s_α, in the order given.</param>
public sealed record LinearTeacher(Dataset Data, Matrix OutputModes, Matrix InputModes, double[] SingularValues)
{
    /// <summary>Draws the modes and the whitened inputs from <paramref name="rng"/>.</summary>
    public static LinearTeacher Whitened(int inputDim, int outputDim, double[] singularValues, Rng rng)
    {
        int r = singularValues.Length;
        if (r < 1 || r > Math.Min(inputDim, outputDim))
            throw new BadInputException($"{r} singular values need 1 ≤ r ≤ min(d_in, d_out) = {Math.Min(inputDim, outputDim)}.");
        if (singularValues.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new BadInputException($"Singular values must be finite and > 0, got {string.Join(", ", singularValues)}.");
        var u = OrthonormalColumns(outputDim, r, rng.Split(0));
        var v = OrthonormalColumns(inputDim, r, rng.Split(1));
        var q = OrthonormalColumns(inputDim, inputDim, rng.Split(2));
        int p = 2 * inputDim;
        var x = new Matrix(p, inputDim);
        double scale = Math.Sqrt(inputDim);
        for (int i = 0; i < inputDim; i++)
            for (int j = 0; j < inputDim; j++)
            {
                x[i, j] = scale * q[j, i];
                x[inputDim + i, j] = -scale * q[j, i];
            }
        // Σ^{yx} = U·diag(s)·Vᵀ, targets Y = X·(Σ^{yx})ᵀ.
        var map = new Matrix(outputDim, inputDim);
        for (int o = 0; o < outputDim; o++)
            for (int j = 0; j < inputDim; j++)
            {
                double sum = 0;
                for (int a = 0; a < r; a++) sum += u[o, a] * singularValues[a] * v[j, a];
                map[o, j] = sum;
            }
        var y = Matrix.Multiply(x, map, Transpose.No, Transpose.Yes);
        return new LinearTeacher(new Dataset(x, y, Name: $"whitened linear teacher, s = {string.Join(", ", singularValues)}"), u, v,
            singularValues);
    }

    /// <summary>An n × k matrix with orthonormal columns: modified Gram–Schmidt, applied twice, on N(0, 1) entries.</summary>
    public static Matrix OrthonormalColumns(int n, int k, Rng rng)
    {
        if (k > n) throw new BadInputException($"Cannot have {k} orthonormal columns in dimension {n}.");
        var m = new Matrix(n, k);
        rng.FillGaussian(m.Data);
        for (int pass = 0; pass < 2; pass++)
            for (int c = 0; c < k; c++)
            {
                for (int prev = 0; prev < c; prev++)
                {
                    double dot = 0;
                    for (int i = 0; i < n; i++) dot += m[i, c] * m[i, prev];
                    for (int i = 0; i < n; i++) m[i, c] -= dot * m[i, prev];
                }
                double norm = 0;
                for (int i = 0; i < n; i++) norm += m[i, c] * m[i, c];
                norm = Math.Sqrt(norm);
                for (int i = 0; i < n; i++) m[i, c] /= norm;
            }
        return m;
    }
}
