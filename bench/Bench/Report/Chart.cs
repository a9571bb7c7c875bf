using System.Globalization;
using System.Text;
using Reference.Bench.Engine;

namespace Reference.Bench.Report;

/// <summary>A grouped horizontal bar chart as plain SVG: ms per job, per corpus image, one bar per engine.</summary>
public static class Chart
{
    private static readonly string[] Colours = ["#b0b7c3", "#3b6fb6", "#e07b39", "#5a9e6f"];

    public static string EngineBars(EngineBench.Result result)
    {
        var engines = result.Images.Select(i => i.Engine).Distinct().ToList();
        var images = result.Images.Select(i => i.Image).Distinct().ToList();
        var max = result.Images.Max(i => i.MedianMs);
        const int labelWidth = 250, barArea = 520, barHeight = 12, groupGap = 14, top = 60;
        var groupHeight = engines.Count * barHeight + groupGap;
        var height = top + images.Count * groupHeight + 30;
        var width = Math.Max(labelWidth + barArea + 80, 10 + engines.Count * 265);
        var scale = barArea / max;
        string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.AppendLine($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine($"""<rect width="{width}" height="{height}" fill="white"/>""");
        svg.AppendLine($"""<text x="10" y="20" font-size="15" font-weight="bold">ms per job (median, single-threaded): decode, orient, strip, 3 variants, encode, write</text>""");
        for (var e = 0; e < engines.Count; e++)
        {
            var x = 10 + e * 265;
            svg.AppendLine($"""<rect x="{x}" y="32" width="12" height="12" fill="{Colours[e % Colours.Length]}"/><text x="{x + 16}" y="43">{engines[e]} ({Math.Round(result.CorpusMs[engines[e]]).ToString(CultureInfo.InvariantCulture)} ms per corpus pass)</text>""");
        }

        for (var i = 0; i < images.Count; i++)
        {
            var y = top + i * groupHeight;
            svg.AppendLine($"""<text x="{labelWidth - 8}" y="{y + engines.Count * barHeight / 2 + 4}" text-anchor="end">{images[i]}</text>""");
            for (var e = 0; e < engines.Count; e++)
            {
                var ms = result.Images.Single(r => r.Image == images[i] && r.Engine == engines[e]).MedianMs;
                var barY = y + e * barHeight;
                svg.AppendLine($"""<rect x="{labelWidth}" y="{barY}" width="{N(Math.Max(1, ms * scale))}" height="{barHeight - 2}" fill="{Colours[e % Colours.Length]}"/><text x="{N(labelWidth + ms * scale + 4)}" y="{barY + 9}" font-size="10">{N(Math.Round(ms))}</text>""");
            }
        }

        svg.AppendLine($"""<line x1="{labelWidth}" y1="{top - 4}" x2="{labelWidth}" y2="{height - 24}" stroke="#444"/>""");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
