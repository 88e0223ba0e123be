using LearningMechanics.Lab;
using LearningMechanics.Lab.Storage;
using Microsoft.Data.Sqlite;

namespace LearningMechanics.Tests.Lab;

/// <summary>The verdict rules on cases solved by hand, and old results databases gaining the new columns.</summary>
public class ClaimTests
{
    [Theory]
    // predicted, measured, tolerance, rule, verdict, resolution (|tolerance − signed distance| / |predicted|)
    [InlineData(2.0, 2.3, 0.4, ClaimRule.TwoSided, Verdict.Pass, 0.05)]
    [InlineData(2.0, 1.5, 0.4, ClaimRule.TwoSided, Verdict.Fail, 0.05)]
    [InlineData(-1.0, -0.62, 0.34, ClaimRule.TwoSided, Verdict.Fail, 0.04)]
    [InlineData(1.0, 1.3, 0.2, ClaimRule.AtMost, Verdict.Fail, 0.1)]
    [InlineData(1.0, 0.3, 0.2, ClaimRule.AtMost, Verdict.Pass, 0.9)]
    [InlineData(1.0, 0.3, 0.2, ClaimRule.AtLeast, Verdict.Fail, 0.5)]
    [InlineData(0.0, 0.01, 0.05, ClaimRule.TwoSided, Verdict.Pass, 0.04)]   // prediction 0: absolute change
    public void VerdictAndResolution(double p, double m, double tol, ClaimRule rule, Verdict verdict, double resolution)
    {
        var c = Claim.Compare("c", "s", "src", p, m, 0.1, tol, rule: rule);
        Assert.Equal(verdict, c.Verdict);
        Assert.Equal(resolution, c.Resolution!.Value, 12);
        // Moving the prediction by the resolution (the right way) puts the measurement on the tolerance's edge.
        double shift = p == 0 ? resolution : resolution * Math.Abs(p);
        bool flipsUp = Claim.Holds(p + shift * 1.0001, m, tol, rule) != Claim.Holds(p, m, tol, rule);
        bool flipsDown = Claim.Holds(p - shift * 1.0001, m, tol, rule) != Claim.Holds(p, m, tol, rule);
        Assert.True(flipsUp || flipsDown);
        Assert.Equal(Claim.Holds(p, m, tol, rule), Claim.Holds(p + shift * 0.999, m, tol, rule));
        Assert.Equal(Claim.Holds(p, m, tol, rule), Claim.Holds(p - shift * 0.999, m, tol, rule));
    }

    [Fact]
    public void APassThatAlsoAcceptsTheCompetitorIsNotDiscriminating()
    {
        var sharp = Claim.Compare("slope", "s", "src", -1, -0.98, 0.02, 0.08, rival: new Rival("1/√n rate", -0.5));
        Assert.Equal(Verdict.Pass, sharp.Verdict);
        Assert.Equal(-0.5, sharp.Competitor);
        Assert.Equal("1/√n rate", sharp.CompetitorHypothesis);
        var blunt = Claim.Compare("slope", "s", "src", -1, -0.8, 0.1, 0.4, rival: new Rival("1/√n rate", -0.5));
        Assert.Equal(Verdict.NotDiscriminating, blunt.Verdict);
        Assert.Contains("Not discriminating", blunt.Note);
        // A failure stays a failure whatever the competitor does.
        var failed = Claim.Compare("slope", "s", "src", -1, -0.5, 0.02, 0.08, rival: new Rival("1/√n rate", -0.5));
        Assert.Equal(Verdict.Fail, failed.Verdict);
    }

    /// <summary>A one-sided claim ("ratio at most ½") against a rival that predicts a value (ratio 1): the rival is accepted
    /// only when the measurement is within the tolerance of its value, not whenever the measurement is below it.</summary>
    [Fact]
    public void AOneSidedClaimDiscriminatesAgainstAPointRival()
    {
        var clear = Claim.Compare("nc1", "s", "src", 0.5, 0.3, 0.05, 0.2, rule: ClaimRule.AtMost, rival: new Rival("no collapse", 1));
        Assert.Equal(Verdict.Pass, clear.Verdict);
        var noisy = Claim.Compare("nc1", "s", "src", 0.5, 0.45, 0.15, 0.6, rule: ClaimRule.AtMost, rival: new Rival("no collapse", 1));
        Assert.Equal(Verdict.NotDiscriminating, noisy.Verdict);
    }

    [Fact]
    public void AnExpectedRefutationIsRefutedWithItsEvidence()
    {
        var claim = Claim.Compare("kernel-movement-slope-relu", "s", "src", -1, -0.62, 0.05, 0.2);
        var refuted = claim.Refutable("activation-pattern flips dominate at large α");
        Assert.Equal(Verdict.Refuted, refuted.Verdict);
        Assert.Contains("activation-pattern flips", refuted.Note);
        var passing = Claim.Compare("x", "s", "src", -1, -0.95, 0.05, 0.2).Refutable("never used");
        Assert.Equal(Verdict.Pass, passing.Verdict);
    }

    [Fact]
    public void SummaryCountsEveryVerdictKind()
    {
        var claims = new[]
        {
            Claim.Compare("a", "s", "src", 1, 1, 0.1, 0.4),
            Claim.Compare("b", "s", "src", 1, 3, 0.1, 0.4),
            Claim.Compare("c", "s", "src", 1, 3, 0.1, 0.4).Refutable("why"),
            Claim.Compare("d", "s", "src", 1, 1, 0.1, 0.4, rival: new Rival("null", 1.1)),
            Claim.Compare("e", "s", "src", 1, double.NaN, 0.1, 0.4),
        };
        Assert.Equal("1 pass, 1 fail, 1 refuted, 1 not discriminating, 1 inconclusive", VerdictText.Summary(claims));
    }

    [Fact]
    public void TheDecisivePointIsAFailingOneEvenWhenAPassingOneIsMoreStandardErrorsAway()
    {
        // (n, L) = A passes: 10 SE off but within its model error; B fails: 3 SE off with a 2-SE tolerance.
        var passing = Claim.Compare("a", "s", "src", 1.0, 2.0, 0.1, 1.5);
        var failing = Claim.Compare("b", "s", "src", 1.0, 1.3, 0.1, 0.2);
        Assert.Equal(1, ScalingFits.DecisiveIndex([passing, failing]));
        Assert.Equal(Verdict.Fail, ScalingFits.Decisive([passing, failing]).Verdict);
        var inconclusive = Claim.Compare("c", "s", "src", 1.0, double.NaN, 0.1, 0.2);
        Assert.Equal(2, ScalingFits.DecisiveIndex([passing, failing, inconclusive]));
        // Among passes, the one using the largest share of its tolerance.
        var close = Claim.Compare("d", "s", "src", 1.0, 1.19, 0.05, 0.2);
        Assert.Equal(1, ScalingFits.DecisiveIndex([passing with { Measured = 1.1 }, close]));
    }

    [Fact]
    public void APointThatCannotDiscriminateDoesNotDecideWhenAnotherOneRulesTheCompetitorOut()
    {
        // Point a: the competitor 1.05 lies inside its tolerance (not discriminating); point b rules its competitor 2 out.
        var blind = Claim.Compare("a", "s", "src", 1.0, 1.0, 0.1, 0.4, rival: new Rival("null", 1.05));
        var sharp = Claim.Compare("b", "s", "src", 1.0, 1.1, 0.05, 0.2, rival: new Rival("null", 2));
        Assert.Equal(Verdict.NotDiscriminating, blind.Verdict);
        var decisive = ScalingFits.Decisive([blind, sharp]);
        Assert.Equal(Verdict.Pass, decisive.Verdict);
        Assert.Contains("1 of 2 points", decisive.Note);
        // Only when no point discriminates is the claim not discriminating.
        Assert.Equal(Verdict.NotDiscriminating, ScalingFits.Decisive([blind, blind with { Measured = 0.9 }]).Verdict);
    }

    [Fact]
    public void AnOlderResultsDatabaseKeepsItsRowsAndGainsTheNewColumns()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lmech-old-{Guid.NewGuid():N}.db");
        try
        {
            using (var conn = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                conn.Open();
                using var cmd = conn.CreateCommand();
                cmd.CommandText = """
                    CREATE TABLE runs (run_id TEXT PRIMARY KEY, experiment TEXT NOT NULL, version TEXT NOT NULL, seed INTEGER NOT NULL,
                      mode TEXT NOT NULL, config_json TEXT NOT NULL, started_utc TEXT NOT NULL, elapsed_s REAL NOT NULL,
                      passed INTEGER NOT NULL, failed INTEGER NOT NULL, inconclusive INTEGER NOT NULL, report_path TEXT NOT NULL);
                    CREATE TABLE claims (run_id TEXT NOT NULL, claim_id TEXT NOT NULL, statement TEXT NOT NULL, source TEXT NOT NULL,
                      predicted REAL, measured REAL, stderr REAL, tolerance REAL, verdict TEXT NOT NULL, note TEXT,
                      PRIMARY KEY (run_id, claim_id));
                    INSERT INTO runs VALUES ('old', 'gp-limit', '0.1.0', 42, 'quick', '{}', '2026-01-01T00:00:00', 1.5, 3, 1, 0, 'r.html');
                    INSERT INTO claims VALUES ('old', 'cov-relu', 's', 'src', 0, 0.001, 0.001, 0.004, 'pass', NULL);
                    """;
                cmd.ExecuteNonQuery();
            }
            using var db = new ResultsDb(path);
            var runs = db.Runs();
            Assert.Single(runs);
            Assert.Equal(3, runs[0].Passed);
            Assert.Equal(0, runs[0].Refuted);
            Assert.Equal([("cov-relu", "pass", (double?)0.0, (double?)0.001)], db.Claims("old"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }
}
