using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// Centred kernel alignment between two representations X (N × p) and Y (N × q) of the same N inputs (Kornblith et al. 2019; the
/// universality of representations, Simon et al. 2026, §2.5): CKA = HSIC(K, L)/√(HSIC(K, K)·HSIC(L, L)) with
/// HSIC(K, L) = tr(K H L H), H the centring matrix. Linear CKA uses K = XXᵀ, which reduces to
/// ‖YᵀX‖²_F/(‖XᵀX‖_F‖YᵀY‖_F) for centred features; RBF CKA uses K_ij = exp(−‖x_i − x_j‖²/(2σ²)) with σ =
/// <c>bandwidth</c> × the median pairwise distance.
/// </summary>
public static class Cka
{
    public static double Linear(Matrix x, Matrix y) => Alignment(Gram(x), Gram(y));

    public static double Rbf(Matrix x, Matrix y, double bandwidth = 0.5) => Alignment(RbfGram(x, bandwidth), RbfGram(y, bandwidth));

    private static Matrix Gram(Matrix x)
    {
        var g = new Matrix(x.Rows, x.Rows);
        Blas.Syrk(x.Rows, x.Cols, 1.0, x.Data, x.Cols, 0.0, g.Data, x.Rows);
        return g;
    }

    private static Matrix RbfGram(Matrix x, double bandwidth)
    {
        if (!(bandwidth > 0)) throw new BadInputException($"RBF CKA bandwidth {bandwidth} must be > 0.");
        var g = Gram(x);
        int n = x.Rows;
        var d2 = new Matrix(n, n);
        var dists = new List<double>();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                d2[i, j] = Math.Max(0, g[i, i] + g[j, j] - 2 * g[i, j]);
                if (j > i) dists.Add(Math.Sqrt(d2[i, j]));
            }
        dists.Sort();
        double median = dists.Count == 0 ? 1 : dists[dists.Count / 2];
        double s2 = Math.Pow(bandwidth * (median > 0 ? median : 1), 2);
        for (int i = 0; i < d2.Data.Length; i++) d2.Data[i] = Math.Exp(-d2.Data[i] / (2 * s2));
        return d2;
    }

    private static double Alignment(Matrix k, Matrix l)
    {
        if (k.Rows != l.Rows) throw new BadInputException($"Representations have {k.Rows} and {l.Rows} rows; CKA needs the same inputs.");
        Center(k); Center(l);
        double kl = 0;
        double kk = 0;
        double ll = 0;
        for (int i = 0; i < k.Data.Length; i++) { kl += k.Data[i] * l.Data[i]; kk += k.Data[i] * k.Data[i]; ll += l.Data[i] * l.Data[i]; }
        return kk > 0 && ll > 0 ? kl / Math.Sqrt(kk * ll) : double.NaN;
    }

    /// <summary>K ← H K H (double centring).</summary>
    private static void Center(Matrix k)
    {
        int n = k.Rows;
        var row = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) { for (int j = 0; j < n; j++) row[i] += k[i, j]; total += row[i]; }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) k[i, j] += -row[i] / n - row[j] / n + total / ((double)n * n);
    }
}
