using LearningMechanics.Numerics;

namespace LearningMechanics.Data;

/// <summary>Synthetic data sets for controlled experiments (the tasks of docs/claims.md).</summary>
public static class Synthetic
{
    /// <summary>n points uniform on the sphere of radius √d (so x·x/d = 1).</summary>
    public static Matrix Sphere(int n, int d, Rng rng)
    {
        var x = GaussianInputs(n, d, rng);
        return Inputs.ToSphere(x);
    }

    /// <summary>n × d iid N(0, 1) inputs.</summary>
    public static Matrix GaussianInputs(int n, int d, Rng rng)
    {
        if (n < 1 || d < 1) throw new BadInputException($"Data size {n}×{d} must be positive.");
        var x = new Matrix(n, d);
        rng.FillGaussian(x.Data);
        return x;
    }

    /// <summary>
    /// Gaussian inputs with power-law covariance spectrum λ_i = i^{−α} (i = 1…d) along the coordinate axes, the setting
    /// of spectral learning-curve theory (Bordelon et al. 2020; Simon et al. 2023).
    /// </summary>
    public static Matrix PowerLawInputs(int n, int d, double alpha, Rng rng)
    {
        if (!(alpha >= 0) || !double.IsFinite(alpha)) throw new BadInputException($"Power-law exponent {alpha} must be ≥ 0.");
        var x = GaussianInputs(n, d, rng);
        for (int i = 0; i < n; i++)
        {
            var row = x.Row(i);
            for (int j = 0; j < d; j++) row[j] *= Math.Pow(j + 1, -alpha / 2);
        }
        return x;
    }

    /// <summary>
    /// A Gaussian mixture of <paramref name="classes"/> classes: class means drawn N(0, separation²/d · I) in d dimensions
    /// (so their distances are ≈ separation·√2), points = mean + N(0, I/d)·√d… i.e. unit-variance noise per coordinate.
    /// Labels are balanced (i mod classes, then shuffled).
    /// </summary>
    public static Dataset GaussianMixture(int n, int d, int classes, double separation, Rng rng)
    {
        if (classes < 2) throw new BadInputException($"Number of classes {classes} must be ≥ 2.");
        var means = new Matrix(classes, d);
        rng.Split(1).FillGaussian(means.Data, separation);
        var noise = rng.Split(2);
        var labels = Enumerable.Range(0, n).Select(i => i % classes).ToArray();
        var order = rng.Split(3);
        for (int i = n - 1; i > 0; i--) { int j = order.NextInt(i + 1); (labels[i], labels[j]) = (labels[j], labels[i]); }
        var x = new Matrix(n, d);
        for (int i = 0; i < n; i++)
        {
            var row = x.Row(i);
            var mu = means.Row(labels[i]);
            for (int j = 0; j < d; j++) row[j] = mu[j] + noise.NextGaussian();
        }
        return Dataset.Classification(x, labels, classes, $"mixture{classes}");
    }
}
