using LearningMechanics.Numerics;

namespace LearningMechanics.Lab;

/// <summary>Claims about how a measured quantity scales with width n, shared by the width-sweep experiments.</summary>
public static class ScalingFits
{
    /// <summary>
    /// Weighted fit dev(n) = a + b/n + c/n² (a + b/n with three points) and the claim a = <paramref name="predicted"/> within
    /// 4·SE(a). With the default 0: the finite-width deviation vanishes at infinite width, whatever its 1/n coefficient;
    /// with dev = n·(measured − leading order): the 1/n coefficient is the predicted one. Inconclusive with fewer than three
    /// widths. <paramref name="competitor"/> is the rival hypothesis's value of the intercept.
    /// </summary>
    public static Claim Intercept(DeclaredClaim claim, double[] n, double[] dev, double[] se, string context, double predicted = 0,
        double? competitor = null)
    {
        if (n.Length < 3) return claim.Inconclusive(predicted, $"Need ≥ 3 widths in the fit, have {n.Length}.");
        var fit = Extrapolate(n, dev, se);
        return claim.Compare(predicted, fit.A, fit.SeA, 4 * fit.SeA,
            $"{context}; fitted 1/n coefficient b = {fit.B:G3} ± {fit.SeB:G2}; reduced χ² = {fit.ReducedChiSquare:G3}; " +
            $"widths {n.Min()}…{n.Max()}; tolerance 4·SE.", competitor);
    }

    /// <summary>Weighted fit y(n) = a + b/n + c/n² (a + b/n with three widths) and its n → ∞ value a with SE; ≥ 3 widths.</summary>
    public static WidthExtrapolation Extrapolate(double[] n, double[] y, double[] se)
    {
        int p = n.Length >= 4 ? 3 : n.Length == 3 ? 2 : 0;
        if (p == 0) throw new ArgumentException($"Need ≥ 3 widths in the fit, have {n.Length}.", nameof(n));
        var design = new Matrix(n.Length, p);
        for (int r = 0; r < n.Length; r++) for (int c = 0; c < p; c++) design[r, c] = Math.Pow(1 / n[r], c);
        var (beta, cov, chi2) = Statistics.WeightedLeastSquares(design, y, se.Select(v => Math.Max(v, 1e-12)).ToArray());
        return new WidthExtrapolation(beta[0], Math.Sqrt(cov[0, 0]), beta[1], Math.Sqrt(cov[1, 1]), chi2);
    }

    /// <summary>
    /// Log–log slope of y(n) against the predicted exponent, tolerance 4·SE + <paramref name="modelError"/> (the stated
    /// size of the next-order correction). Inconclusive with fewer than three widths or a non-positive value.
    /// <paramref name="competitor"/> is the rival hypothesis's exponent (e.g. −1/2 against a predicted 1/n rate).
    /// </summary>
    public static Claim Slope(DeclaredClaim claim, double[] n, double[] y, double[] se, double predicted, double modelError,
        string modelErrorReason, double? competitor = null)
    {
        if (n.Length < 3 || y.Any(v => !(v > 0)))
            return claim.Inconclusive(predicted, $"Need ≥ 3 widths with positive values, have {n.Length}.");
        var fit = Statistics.LogLogSlope(n, y, se);
        return claim.Compare(predicted, fit.Slope, fit.SlopeStdErr, 4 * fit.SlopeStdErr + modelError,
            $"weighted fit over widths {n.Min()}…{n.Max()} (reduced χ² = {fit.ReducedChiSquare:G3}); " +
            $"tolerance 4·SE + model error {modelError:G3}: {modelErrorReason}.", competitor);
    }

    /// <summary>
    /// The sub-claim that decides a claim made at several points (layers, (n, L) pairs, input pairs), each judged against
    /// the competing hypothesis: an inconclusive point first, then a failed or refuted one (a failing point always decides);
    /// otherwise the worst of the points whose tolerance rules the competitor out; only when no point can tell the two
    /// apart is the claim not discriminating. Among equals, the point that uses the largest share of its own tolerance,
    /// |predicted − measured|/tolerance, so a failing point can never hide behind a passing one with a larger |Δ|/SE.
    /// </summary>
    public static Claim Decisive(IEnumerable<Claim> points)
    {
        var all = points.ToList();
        var decisive = all[DecisiveIndex(all)];
        if (all.Count < 2) return decisive;
        int discriminating = all.Count(c => c.Verdict != Verdict.NotDiscriminating);
        return decisive with
        {
            Note = $"{decisive.Note} Judged at the worst of the {discriminating} of {all.Count} points that discriminate from " +
                "the competitor (a failing point always decides).",
        };
    }

    /// <summary>Index of the point <see cref="Decisive"/> chooses.</summary>
    public static int DecisiveIndex(IReadOnlyList<Claim> points)
    {
        if (points.Count == 0) throw new ArgumentException("No claims to choose from.");
        bool anyDiscriminating = points.Any(c => c.Verdict != Verdict.NotDiscriminating);
        return Enumerable.Range(0, points.Count)
            .Where(i => !anyDiscriminating || points[i].Verdict != Verdict.NotDiscriminating)
            .OrderByDescending(i => points[i].Verdict switch
            {
                Verdict.Inconclusive => 2,
                Verdict.Fail or Verdict.Refuted => 1,
                _ => 0,
            })
            .ThenByDescending(i => ShareOfTolerance(points[i]))
            .First();
    }

    private static double ShareOfTolerance(Claim c)
    {
        if (c.Predicted is not { } p || c.Measured is not { } m) return double.PositiveInfinity;
        double gap = Math.Abs(p - m);
        return c.Tolerance is > 0 ? gap / c.Tolerance.Value : gap > 0 ? double.PositiveInfinity : 0;
    }
}

/// <summary>A width extrapolation y(n) ≈ a + b/n (+ c/n²): the limit <see cref="A"/> and the 1/n coefficient <see cref="B"/>.</summary>
public readonly record struct WidthExtrapolation(double A, double SeA, double B, double SeB, double ReducedChiSquare);
