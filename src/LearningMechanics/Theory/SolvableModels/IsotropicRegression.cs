namespace LearningMechanics.Theory.SolvableModels;

/// <summary>
/// Test risk of linear regression with isotropic Gaussian features x ~ N(0, I_p), y = xᵀβ + ε, ‖β‖² = r², Var ε = σ²,
/// n samples, γ = p/n: the risk R = E[(x₀ᵀβ̂ − x₀ᵀβ)²] = ‖β̂ − β‖² (excess over the noise), the setting of double
/// descent (Hastie et al. 2022; Belkin et al. 2019; Advani et al. 2020).
/// </summary>
public static class IsotropicRegression
{
    /// <summary>
    /// Limit of the ridgeless (minimum-norm least-squares) risk: σ²γ/(1 − γ) for γ &lt; 1 and r²(1 − 1/γ) + σ²/(γ − 1) for
    /// γ &gt; 1 (Hastie et al. 2022, isotropic features); infinite at the interpolation threshold γ = 1.
    /// </summary>
    public static double RidgelessRisk(double gamma, double r2, double sigma2)
    {
        Check(gamma, r2, sigma2);
        return gamma < 1 ? sigma2 * gamma / (1 - gamma) : gamma > 1 ? r2 * (1 - 1 / gamma) + sigma2 / (gamma - 1)
            : double.PositiveInfinity;
    }

    /// <summary>
    /// The same expectation at finite n and p, exact for Gaussian features: σ²p/(n − p − 1) for n ≥ p + 2 (least squares,
    /// E[(XᵀX)⁻¹] = I/(n − p − 1) for a Wishart matrix) and r²(1 − n/p) + σ²n/(p − n − 1) for p ≥ n + 2 (the
    /// minimum-norm solution projects β on a uniformly random n-dimensional subspace, and E[(XXᵀ)⁻¹] = I/(p − n − 1)). Its n →
    /// ∞ limit at fixed γ is <see cref="RidgelessRisk"/>.
    /// </summary>
    public static double RidgelessRiskFinite(int n, int p, double r2, double sigma2)
    {
        Check((double)p / n, r2, sigma2);
        if (n >= p + 2) return sigma2 * p / (n - p - 1.0);
        if (p >= n + 2) return r2 * (1 - (double)n / p) + sigma2 * n / (p - n - 1.0);
        return double.PositiveInfinity;
    }

    /// <summary>
    /// Stieltjes transform m(−λ) = ∫ dμ(s)/(s + λ) of the Marchenko–Pastur law of XᵀX/n (ratio γ, unit variance), λ &gt; 0:
    /// m = [−(1 − γ + λ) + √((1 − γ + λ)² + 4γλ)]/(2γλ), the positive root of γλm² + (1 − γ + λ)m − 1 = 0
    /// (Marchenko &amp; Pastur 1967), in whichever of this form and 2/((1 − γ + λ) + √(…)) does not cancel.
    /// </summary>
    public static double MarchenkoPasturStieltjes(double gamma, double lambda)
    {
        if (!(lambda > 0)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "Ridge λ must be > 0.");
        double b = 1 - gamma + lambda;
        double root = Math.Sqrt(b * b + 4 * gamma * lambda);
        return b > 0 ? 2 / (b + root) : (root - b) / (2 * gamma * lambda);
    }

    /// <summary>
    /// Limit of the ridge risk for β̂_λ = (XᵀX/n + λI)⁻¹Xᵀy/n: R(λ) = r²λ²m′(−λ) + σ²γ(m(−λ) − λm′(−λ))
    /// with m′(−λ) = ∫ dμ(s)/(s + λ)² (Hastie et al. 2022, ridge with isotropic features; Dobriban &amp; Wager 2018). m′ is
    /// taken by differentiating the closed form.
    /// </summary>
    public static double RidgeRisk(double gamma, double lambda, double r2, double sigma2)
    {
        Check(gamma, r2, sigma2);
        double m = MarchenkoPasturStieltjes(gamma, lambda);
        // m(−λ) solves γλm² + (1 − γ + λ)m − 1 = 0; differentiating in λ:
        // dm/dλ = −(γm² + m)/(2γλm + 1 − γ + λ) = −m′(−λ).
        double dm = -(gamma * m * m + m) / (2 * gamma * lambda * m + 1 - gamma + lambda);
        double mPrime = -dm;
        return r2 * lambda * lambda * mPrime + sigma2 * gamma * (m - lambda * mPrime);
    }

    /// <summary>The risk-minimising ridge λ* = σ²γ/r² (Dobriban &amp; Wager 2018; Hastie et al. 2022).</summary>
    public static double OptimalRidge(double gamma, double r2, double sigma2)
    {
        Check(gamma, r2, sigma2);
        return sigma2 * gamma / r2;
    }

    /// <summary>The risk at λ*, σ²γ·m(−λ*) (the m′ terms cancel there): finite and increasing in γ, no peak.</summary>
    public static double OptimalRidgeRisk(double gamma, double r2, double sigma2) =>
        sigma2 * gamma * MarchenkoPasturStieltjes(gamma, OptimalRidge(gamma, r2, sigma2));

    private static void Check(double gamma, double r2, double sigma2)
    {
        if (!(gamma > 0) || !double.IsFinite(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ = p/n must be > 0.");
        if (!(r2 >= 0) || !(sigma2 >= 0))
            throw new ArgumentOutOfRangeException(nameof(r2), $"Need r² ≥ 0 and σ² ≥ 0, got {r2}, {sigma2}.");
    }
}
