using System.Globalization;
using System.Text;
using LearningMechanics.Lab.Storage;
using static System.Net.WebUtility;

namespace LearningMechanics.Lab.Reports;

/// <summary>
/// Self-contained HTML pages: one report per run (claims table, inline SVG plots, configuration, timings, links
/// to the CSV series) and an index of every run in an output folder. All text is HTML-escaped.
/// </summary>
public static class HtmlReport
{
    private const string Style =
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n" +
        "h1{font-size:1.6em;margin-bottom:.2em} h2{margin-top:1.6em;border-bottom:1px solid #ddd}\n" +
        "table{border-collapse:collapse;width:100%;font-size:.9em} " +
        "th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}\n" +
        "th{background:#f4f4f4} td.num{text-align:right;font-family:ui-monospace,monospace;white-space:nowrap}\n" +
        ".pass{background:#dff5e1;color:#155d27;font-weight:600}.fail{background:#fde2e1;color:#8a1c1c;font-weight:600}\n" +
        ".inconclusive{background:#fff4d6;color:#7a5a00;font-weight:600}\n" +
        ".refuted{background:#e8e0f8;color:#4b2a8a;font-weight:600} .not-discriminating{background:#eee;color:#555;font-weight:600} " +
        ".note{color:#555;font-size:.85em}\nfigure{margin:1.2em 0} figcaption{color:#555;font-size:.85em} .meta{color:#555}";

    public static string Render(RunRecord run, IEnumerable<string> csvFiles)
    {
        var sb = new StringBuilder();
        Head(sb, $"{run.ExperimentId} — LearningMechanics");
        sb.Append($"<h1>{HtmlEncode(run.Title)}</h1><p class=meta><code>{HtmlEncode(run.ExperimentId)}</code> · " +
            $"{HtmlEncode(run.Summary)}<br>");
        sb.Append($"Source: {HtmlEncode(run.Source)}<br>run {HtmlEncode(run.RunId)} · lmech {HtmlEncode(run.Version)} · " +
            $"seed {run.Seed} · {run.Mode.ToString().ToLowerInvariant()} mode · ");
        sb.Append($"{run.ElapsedSeconds.ToString("F1", CultureInfo.InvariantCulture)} s · " +
            $"started {HtmlEncode(run.StartedUtc.ToString("u", CultureInfo.InvariantCulture))}</p>");
        sb.Append("<p>");
        foreach (var verdict in new[] { Verdict.Pass, Verdict.Fail, Verdict.Refuted, Verdict.NotDiscriminating, Verdict.Inconclusive })
            sb.Append($"<span class={verdict.Text().Replace(' ', '-')}>&nbsp;{run.Count(verdict)} {verdict.Text()}&nbsp;</span> ");
        sb.Append("</p>");

        sb.Append("<h2>Claims</h2><table><tr><th>claim</th><th>statement</th><th>predicted</th><th>competitor</th><th>measured</th>" +
            "<th>± SE</th><th>tolerance</th><th>resolution</th><th>verdict</th></tr>");
        foreach (var c in run.Output.Claims)
        {
            string v = c.Verdict.Text();
            string css = v.Replace(' ', '-');
            sb.Append($"<tr><td><code>{HtmlEncode(c.Id)}</code></td><td>{HtmlEncode(c.Statement)}<div class=note>{HtmlEncode(c.Source)}");
            if (c.CompetitorHypothesis is not null) sb.Append($"<br>Competitor: {HtmlEncode(c.CompetitorHypothesis)}");
            if (c.Note is not null) sb.Append($"<br>{HtmlEncode(c.Note)}");
            string rule = c.Rule == ClaimRule.AtMost ? "≤ +" : c.Rule == ClaimRule.AtLeast ? "≥ −" : "";
            string rival = HtmlEncode(c.CompetitorHypothesis ?? "");
            sb.Append($"</div></td><td class=num>{Num(c.Predicted)}</td><td class=num title=\"{rival}\">{Num(c.Competitor)}</td>");
            sb.Append($"<td class=num>{Num(c.Measured)}</td><td class=num>{Num(c.StdErr)}</td><td class=num>{rule}{Num(c.Tolerance)}</td>");
            sb.Append($"<td class=num>{Num(c.Resolution)}</td><td class={css}>{v}</td></tr>");
        }
        sb.Append("</table><p class=note>A claim passes when |predicted − measured| ≤ tolerance and the tolerance does not also " +
            "accept the competitor's prediction (then it is <em>not discriminating</em>); a claim of the literature that fails for a " +
            "reason the lab has established is <em>refuted</em>, with the evidence in its note. The resolution is the smallest relative " +
            "change of the prediction that would flip the verdict. Passing means |predicted − measured| ≤ tolerance, or, for a " +
            "one-sided claim (marked ≤ or ≥ next to its tolerance), when measured ≤ predicted + tolerance or ≥ predicted − " +
            "tolerance. Tolerances are a multiple of the measured standard error plus any model error the claim states; a fixed seed " +
            "makes every verdict reproducible.</p>");

        if (run.Output.Plots.Count > 0)
        {
            sb.Append("<h2 id=plots>Plots</h2>");
            foreach (var p in run.Output.Plots)
            {
                sb.Append("<figure>").Append(StripXmlProlog(PlotRenderer.ToSvg(p)));
                if (p.Caption is not null) sb.Append($"<figcaption>{HtmlEncode(p.Caption)}</figcaption>");
                sb.Append("</figure>");
            }
        }

        sb.Append("<h2>Configuration</h2><table>");
        foreach (var (k, v) in run.Config) sb.Append($"<tr><th>{HtmlEncode(k)}</th><td>{HtmlEncode(v)}</td></tr>");
        sb.Append("</table><h2>Timings</h2><table>");
        sb.Append($"<tr><th>total</th><td class=num>{run.ElapsedSeconds.ToString("F2", CultureInfo.InvariantCulture)} s</td></tr>");
        foreach (var (k, v) in run.Output.Timings)
            sb.Append($"<tr><th>{HtmlEncode(k)}</th><td class=num>{v.ToString("F2", CultureInfo.InvariantCulture)}</td></tr>");
        sb.Append("</table><h2>Raw data</h2><ul><li><a href=\"result.json\">result.json</a></li>");
        foreach (var f in csvFiles) sb.Append($"<li><a href=\"{HtmlEncode(Uri.EscapeDataString(f))}\">{HtmlEncode(f)}</a></li>");
        sb.Append("</ul></body></html>");
        return sb.ToString();
    }

    /// <summary>The index of all runs recorded in a results database, newest first, with links to their reports.</summary>
    public static string RenderIndex(IReadOnlyList<RunSummary> runs)
    {
        var sb = new StringBuilder();
        Head(sb, "LearningMechanics — runs");
        sb.Append("<h1>LearningMechanics runs</h1>" +
            "<p class=meta>Theory predicts, a real network measures, the tool states the verdict.</p>");
        sb.Append("<table><tr><th>experiment</th><th>run</th><th>mode</th><th>seed</th><th>started (UTC)</th><th>time</th><th>pass</th>" +
            "<th>fail</th><th>refuted</th><th>not discr.</th><th>inconclusive</th></tr>");
        foreach (var r in runs)
        {
            string link = $"<a href=\"{HtmlEncode(string.Join('/', r.ReportPath.Split('/').Select(Uri.EscapeDataString)))}\">" +
                $"{HtmlEncode(r.RunId)}</a>";
            sb.Append($"<tr><td><code>{HtmlEncode(r.Experiment)}</code></td><td>{link}</td><td>{HtmlEncode(r.Mode)}</td>" +
                $"<td class=num>{r.Seed}</td>");
            sb.Append($"<td>{HtmlEncode(r.StartedUtc)}</td>" +
                $"<td class=num>{r.ElapsedSeconds.ToString("F1", CultureInfo.InvariantCulture)} s</td>");
            sb.Append($"<td class=\"num{(r.Passed > 0 ? " pass" : "")}\">{r.Passed}</td>" +
                $"<td class=\"num{(r.Failed > 0 ? " fail" : "")}\">{r.Failed}</td>");
            sb.Append($"<td class=\"num{(r.Refuted > 0 ? " refuted" : "")}\">{r.Refuted}</td>");
            sb.Append($"<td class=\"num{(r.NotDiscriminating > 0 ? " not-discriminating" : "")}\">{r.NotDiscriminating}</td>" +
                $"<td class=\"num{(r.Inconclusive > 0 ? " inconclusive" : "")}\">{r.Inconclusive}</td></tr>");
        }
        sb.Append("</table></body></html>");
        return sb.ToString();
    }

    private static void Head(StringBuilder sb, string title) =>
        sb.Append($"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{HtmlEncode(title)}</title>" +
            $"<style>{Style}</style></head><body>");

    private static string Num(double? v) => v is { } x ? HtmlEncode(x.ToString("G5", CultureInfo.InvariantCulture)) : "—";

    private static string StripXmlProlog(string svg)
    {
        int start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return start > 0 ? svg[start..] : svg;
    }
}
