using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LearningMechanics.Architecture;

/// <summary>
/// The arc-cosine kernels of the ReLU family (Cho &amp; Saul 2009) for (u, v) ~ N(0, [[k11, k12], [k12, k22]]), with
/// c = k12/√(k11k22) and δ = π − θ = arccos(−c). The arccos is Cephes's (Moshier 1989: asin(s) = s + s·z·P(z)/Q(z) with
/// z = s² ≤ ¼, and acos x = 2 asin √((1 − x)/2) for x &gt; ½), written once for a scalar and once for a
/// <see cref="Vector256{T}"/> lane with the same operations in the same order (no fused multiply–add), so a kernel row
/// computed four entries at a time is bit-identical to the same entries computed one by one. It agrees with the C
/// library's acos to a few ulp (ArcCosineTests).
/// </summary>
internal static class ArcCosine
{
    private const double InverseTwoPi = 1 / (2 * Math.PI);
    private const double PiOver4 = Math.PI / 4;
    private const double MoreBits = 6.123233995736765886130e-17;   // π/4 − PiOver4
    private const double P0 = 4.253011369004428248960e-3;
    private const double P1 = -6.019598008014123785661e-1;
    private const double P2 = 5.444622390564711410273e0;
    private const double P3 = -1.626247967210700244449e1;
    private const double P4 = 1.956261983317594739197e1;
    private const double P5 = -8.198089802484824371615e0;
    private const double Q0 = -1.474091372988853791896e1;
    private const double Q1 = 7.049610280856842141659e1;
    private const double Q2 = -1.471791292232726029859e2;
    private const double Q3 = 1.395105614657485689735e2;
    private const double Q4 = -4.918853881490881290097e1;

    /// <summary>arccos x for x in [−1, 1].</summary>
    public static double Acos(double x)
    {
        double a = Math.Abs(x);
        bool big = a > 0.5;
        double z = big ? 0.5 - 0.5 * a : a * a;
        double s = big ? Math.Sqrt(z) : a;
        double p = ((((P0 * z + P1) * z + P2) * z + P3) * z + P4) * z + P5;
        double q = ((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4;
        double r = s * (z * p / q) + s;
        if (big) return x < 0 ? Math.PI - 2 * r : 2 * r;
        return PiOver4 - (x < 0 ? -r : r) + MoreBits + PiOver4;
    }

    /// <summary><see cref="Acos(double)"/> on four lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Acos(Vector256<double> x)
    {
        var half = Vector256.Create(0.5);
        var a = Vector256.Abs(x);
        var big = Vector256.GreaterThan(a, half);
        var negative = Vector256.LessThan(x, Vector256<double>.Zero);
        var z = Vector256.ConditionalSelect(big, half - half * a, a * a);
        var s = Vector256.ConditionalSelect(big, Vector256.Sqrt(z), a);
        var p = ((((Vector256.Create(P0) * z + Vector256.Create(P1)) * z + Vector256.Create(P2)) * z + Vector256.Create(P3)) * z
            + Vector256.Create(P4)) * z + Vector256.Create(P5);
        var q = ((((z + Vector256.Create(Q0)) * z + Vector256.Create(Q1)) * z + Vector256.Create(Q2)) * z + Vector256.Create(Q3)) * z
            + Vector256.Create(Q4);
        var r = s * (z * p / q) + s;
        var two = Vector256.Create(2.0);
        var bigResult = Vector256.ConditionalSelect(negative, Vector256.Create(Math.PI) - two * r, two * r);
        var quarter = Vector256.Create(PiOver4);
        var smallResult = quarter - Vector256.ConditionalSelect(negative, -r, r) + Vector256.Create(MoreBits) + quarter;
        return Vector256.ConditionalSelect(big, bigResult, smallResult);
    }

    /// <summary>√(k11k22), and c = k12/√(k11k22) clamped to [−1, 1]; identical inputs get c = 1 exactly (the kernels have
    /// infinite slope at c = 1, so one ulp below would cost √ε).</summary>
    private static (double Norm, double C) Correlation(double k11, double k12, double k22)
    {
        double norm = Math.Sqrt(k11 * k22);
        return (norm, norm == 0 ? 0 : k12 == k11 && k12 == k22 ? 1 : Math.Clamp(k12 / norm, -1, 1));
    }

    /// <summary>
    /// Degrees 1 and 0: E[relu(u)relu(v)] = √(k11k22)·(sin δ − δ cos δ)/(2π) and E[1{u&gt;0}1{v&gt;0}] = δ/(2π)
    /// (Cho &amp; Saul 2009, J₁ and J₀ with θ = π − δ). For δ &lt; 0.1, sin δ − δ cos δ is summed as its series to
    /// avoid cancellation.
    /// </summary>
    public static (double Degree1, double Degree0) Both(double k11, double k12, double k22)
    {
        var (norm, c) = Correlation(k11, k12, k22);
        if (norm == 0) return (0, 0);
        double delta = Acos(-c);
        return (norm * Sine(delta, c) * InverseTwoPi, delta * InverseTwoPi);
    }

    private static double Sine(double delta, double c)
    {
        double d2 = delta * delta;
        return delta < 0.1
            ? delta * d2 * (1.0 / 3 - d2 * (1.0 / 30 - d2 * (1.0 / 840 - d2 * (1.0 / 45360))))
            : Math.Sqrt((1 - c) * (1 + c)) + delta * c;
    }

    /// <summary>Degree-1 arc-cosine kernel E[relu(u)relu(v)] (see <see cref="Both"/>).</summary>
    public static double Degree1(double k11, double k12, double k22) => Both(k11, k12, k22).Degree1;

    /// <summary>Degree-0 arc-cosine kernel E[1{u&gt;0}1{v&gt;0}] = (π − θ)/(2π).</summary>
    public static double Degree0(double k11, double k12, double k22) => Both(k11, k12, k22).Degree0;

    /// <summary>
    /// E[relu(u)²relu(v)²] = k11k22·J₂/(2π), J₂ = 3 sin θ cos θ + (π − θ)(1 + 2cos²θ): the degree-2 arc-cosine kernel
    /// (Cho &amp; Saul 2009, §2: their k₂ = ‖x‖²‖y‖²J₂/π for w ~ N(0, I), halved because relu keeps one side).
    /// </summary>
    public static double Degree2(double k11, double k12, double k22)
    {
        var (norm, c) = Correlation(k11, k12, k22);
        if (norm == 0) return 0;
        double sin = Math.Sqrt((1 - c) * (1 + c));
        return norm * norm * (3 * sin * c + Acos(-c) * (1 + 2 * c * c)) * InverseTwoPi;
    }

    /// <summary>E[sign(u)sign(v)] = (2/π)·arcsin(c) = 1 − 2θ/π.</summary>
    public static double SignSign(double k11, double k12, double k22)
    {
        var (norm, c) = Correlation(k11, k12, k22);
        return norm == 0 ? 0 : 1 - 2 * Acos(c) / Math.PI;
    }

    /// <summary>
    /// A kernel row for φ = (1 − α)·relu + α·id with <paramref name="scale"/> = (1 − α)²: k_j ← scale·A₁ + α·k_j and,
    /// when <paramref name="t"/> is not empty, t_j ← t_j·(α + scale·A₀), with A₁, A₀ of (v1, k_j, v2_j). Four entries at
    /// a time, then the remainder one by one through <see cref="Both"/>: the same arithmetic, so bit-identical.
    /// </summary>
    public static void Row(double v1, ReadOnlySpan<double> v2, Span<double> k, Span<double> t, double scale, double alpha)
    {
        bool ntk = !t.IsEmpty;
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vA = Vector256.Create(v1);
            var vScale = Vector256.Create(scale);
            var vAlpha = Vector256.Create(alpha);
            var one = Vector256.Create(1.0);
            var inverseTwoPi = Vector256.Create(InverseTwoPi);
            var seriesEnd = Vector256.Create(0.1);
            for (; j + 4 <= k.Length; j += 4)
            {
                var vB = Vector256.Create(v2.Slice(j, 4));
                var kj = Vector256.Create(k.Slice(j, 4));
                var norm = Vector256.Sqrt(vA * vB);
                var zero = Vector256.Equals(norm, Vector256<double>.Zero);
                var same = Vector256.Equals(kj, vA) & Vector256.Equals(kj, vB);
                var c = Vector256.ConditionalSelect(same, one, Vector256.Min(Vector256.Max(kj / norm, -one), one));
                c = Vector256.ConditionalSelect(zero, Vector256<double>.Zero, c);
                var delta = Acos(-c);
                var sine = Vector256.Sqrt((one - c) * (one + c)) + delta * c;
                var small = Vector256.LessThan(delta, seriesEnd);
                if (small != Vector256<double>.Zero)
                {
                    // Rare (c within 0.5 % of −1): the series of sin δ − δ cos δ, as in Sine.
                    var d2 = delta * delta;
                    var series = delta * d2 * (Vector256.Create(1.0 / 3) - d2 * (Vector256.Create(1.0 / 30)
                        - d2 * (Vector256.Create(1.0 / 840) - d2 * Vector256.Create(1.0 / 45360))));
                    sine = Vector256.ConditionalSelect(small, series, sine);
                }
                var a1 = Vector256.ConditionalSelect(zero, Vector256<double>.Zero, norm * sine * inverseTwoPi);
                var a0 = Vector256.ConditionalSelect(zero, Vector256<double>.Zero, delta * inverseTwoPi);
                (vScale * a1 + vAlpha * kj).CopyTo(k.Slice(j, 4));
                if (ntk) (Vector256.Create(t.Slice(j, 4)) * (vAlpha + vScale * a0)).CopyTo(t.Slice(j, 4));
            }
        }
        for (; j < k.Length; j++)
        {
            var (a1, a0) = Both(v1, k[j], v2[j]);
            if (ntk) t[j] *= alpha + scale * a0;
            k[j] = scale * a1 + alpha * k[j];
        }
    }
}
