using LearningMechanics.Lab;

namespace LearningMechanics.Experiments;

/// <summary>
/// The sub-claim that decides a claim made at several points (layers, widths, input pairs) when each point is judged
/// against a competing hypothesis: a failed or inconclusive point always decides; otherwise the worst of the points whose
/// tolerance rules the competitor out; only when no point can tell the two apart is the claim not discriminating.
/// </summary>
internal static class DecisivePoint
{
    public static Claim Of(IReadOnlyList<Claim> points)
    {
        var discriminating = points.Where(c => c.Verdict != Verdict.NotDiscriminating).ToList();
        var decisive = ScalingFits.Worst(discriminating.Count > 0 ? discriminating : points);
        return decisive with
        {
            Note = $"{decisive.Note} Judged at the worst of the {discriminating.Count} of {points.Count} points that " +
                "discriminate from the competitor (a failing point always decides).",
        };
    }
}
