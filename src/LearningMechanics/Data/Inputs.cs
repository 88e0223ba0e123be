using LearningMechanics.Numerics;

namespace LearningMechanics.Data;

/// <summary>Input preparation shared by theory and networks.</summary>
public static class Inputs
{
    /// <summary>Rescales every row to squared norm d (the sphere of radius √d), so x·x/d = 1 and K¹ = σ_b² + σ_w².</summary>
    public static Matrix ToSphere(Matrix x)
    {
        var y = x.Clone();
        for (int i = 0; i < y.Rows; i++)
        {
            var row = y.Row(i);
            double norm2 = 0; foreach (var v in row) norm2 += v * v;
            if (!(norm2 > 0)) throw new BadInputException($"Input row {i} is zero or not finite and cannot be normalised.");
            double s = Math.Sqrt(y.Cols / norm2);
            for (int j = 0; j < row.Length; j++) row[j] *= s;
        }
        return y;
    }

    /// <summary>The input Gram matrix x_a·x_b/d (the first layer's kernel per unit σ_w², Roberts &amp; Yaida 2022, eq. 4.8).</summary>
    public static Matrix Gram(Matrix x)
    {
        var g = Matrix.Multiply(x, x, Transpose.No, Transpose.Yes);
        for (int i = 0; i < g.Data.Length; i++) g.Data[i] /= x.Cols;
        return g;
    }

    /// <summary>
    /// The probe set of the gp-limit experiment: x₀ random, x₁ nearly parallel to x₀ (cosine <paramref name="nearCosine"/>),
    /// x₂ orthogonal to x₀, x₃ = −x₀; all on the sphere of radius √d.
    /// </summary>
    public static Matrix ProbeSet(int d, Rng rng, double nearCosine = 0.95)
    {
        if (d < 2) throw new BadInputException($"Input dimension {d} must be ≥ 2 for a probe set with an orthogonal pair.");
        var a = new double[d];
        var b = new double[d];
        rng.FillGaussian(a); rng.FillGaussian(b);
        Normalize(a);
        double dot = 0; for (int i = 0; i < d; i++) dot += a[i] * b[i];
        for (int i = 0; i < d; i++) b[i] -= dot * a[i];
        Normalize(b);
        double s = Math.Sqrt(1 - nearCosine * nearCosine);
        var x = new Matrix(4, d);
        for (int i = 0; i < d; i++)
        {
            x[0, i] = a[i]; x[1, i] = nearCosine * a[i] + s * b[i]; x[2, i] = b[i]; x[3, i] = -a[i];
        }
        return ToSphere(x);
    }

    private static void Normalize(double[] v)
    {
        double n = Math.Sqrt(v.Sum(t => t * t));
        for (int i = 0; i < v.Length; i++) v[i] /= n;
    }
}
