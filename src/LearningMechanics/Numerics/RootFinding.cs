namespace LearningMechanics.Numerics;

/// <summary>Bracketing root finders.</summary>
public static class RootFinding
{
    /// <summary>
    /// Brent's method (Brent 1973, ch. 4): a root of f in [a, b] where f(a), f(b) differ in sign; combines
    /// bisection, secant and inverse quadratic interpolation, converging to |Δx| ≤ tol.
    /// </summary>
    public static double Brent(Func<double, double> f, double a, double b, double tol = 1e-14, int maxIter = 200)
    {
        double fa = f(a);
        double fb = f(b);
        if (double.IsNaN(fa) || double.IsNaN(fb)) throw new ArithmeticException($"f is NaN at a bracket end (f({a})={fa}, f({b})={fb}).");
        if (fa == 0) return a;
        if (fb == 0) return b;
        if (Math.Sign(fa) == Math.Sign(fb))
            throw new ArgumentException($"Root not bracketed: f({a})={fa} and f({b})={fb} have the same sign.");
        double c = a;
        double fc = fa;
        double d = b - a;
        double e = d;
        for (int iter = 0; iter < maxIter; iter++)
        {
            if (Math.Sign(fb) == Math.Sign(fc)) { c = a; fc = fa; d = e = b - a; }
            if (Math.Abs(fc) < Math.Abs(fb)) { a = b; b = c; c = a; fa = fb; fb = fc; fc = fa; }
            double tol1 = 2 * double.Epsilon + 0.5 * tol + 2e-16 * Math.Abs(b);
            double m = 0.5 * (c - b);
            if (Math.Abs(m) <= tol1 || fb == 0) return b;
            if (Math.Abs(e) >= tol1 && Math.Abs(fa) > Math.Abs(fb))
            {
                double s = fb / fa;
                double p;
                double q;
                if (a == c) { p = 2 * m * s; q = 1 - s; }
                else
                {
                    double qq = fa / fc;
                    double r = fb / fc;
                    p = s * (2 * m * qq * (qq - r) - (b - a) * (r - 1));
                    q = (qq - 1) * (r - 1) * (s - 1);
                }
                if (p > 0) q = -q; else p = -p;
                if (2 * p < Math.Min(3 * m * q - Math.Abs(tol1 * q), Math.Abs(e * q))) { e = d; d = p / q; }
                else { d = m; e = d; }
            }
            else { d = m; e = d; }
            a = b; fa = fb;
            b += Math.Abs(d) > tol1 ? d : Math.Sign(m) * tol1;
            fb = f(b);
            if (double.IsNaN(fb)) throw new ArithmeticException($"f is NaN at x={b}.");
        }
        throw new ArithmeticException($"Brent did not converge in {maxIter} iterations.");
    }
}
