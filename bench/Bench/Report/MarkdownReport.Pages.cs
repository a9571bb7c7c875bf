using System.Text;
using Reference.Bench.Pages;

namespace Reference.Bench.Report;

public static partial class MarkdownReport
{
    private static string PagesSection(BenchResults results)
    {
        if (results.Get<PagesBench.Result>("pages") is not { } pages)
        {
            return "Not measured yet: `bench/run.sh pages`.";
        }

        var sb = new StringBuilder();
        sb.AppendLine($"Chromium (Debian's, headless, 1280×900, empty cache), {pages.Uploads} products with a corpus photo each, engine {pages.Engine}.");
        sb.AppendLine();
        sb.AppendLine("| page | images | bytes, WebP accepted | bytes, JPEG only | saving |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var page in pages.Pages)
        {
            sb.AppendLine($"| {page.Page} | {page.Images} | {page.WebpBytes.ToString("N0", Invariant)} | {page.JpegBytes.ToString("N0", Invariant)} | {F(page.Saving * 100, "0")}% |");
        }

        sb.AppendLine();
        sb.AppendLine("| engine | WebP pass, ms per upload (3 copies) | WebP ÷ JPEG/PNG bytes | placeholder, ms per upload | placeholder, bytes |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var cost in pages.Cost)
        {
            sb.AppendLine($"| {cost.Engine} | {F(cost.MsPerUpload)} | {F(100.0 * cost.WebpBytes / cost.VariantBytes, "0")}% | " +
                $"{F(cost.PlaceholderMsPerUpload, "0.0#")} | {F(cost.PlaceholderMeanBytes, "0")} |");
        }

        sb.AppendLine();
        sb.AppendLine($"Upload → Ready of these uploads one at a time, p50 {F(pages.ReadyP50Ms, "0")} ms; the WebP copies were served " +
            $"{F(pages.CopiesAfterReadyP50Ms, "0")} ms (p50) after Ready. Per-upload costs: the corpus ({pages.Cost.FirstOrDefault()?.Images} images), " +
            "one thread, best of the runs after a warm-up.");
        sb.AppendLine();
        sb.AppendLine($"1-min load average {F(pages.LoadBefore, "0.0")} → {F(pages.LoadAfter, "0.0")} on {Environment.ProcessorCount} cores: the bytes do not depend on it, the ms do.");
        return sb.ToString();
    }
}
