using System.Diagnostics;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.ImageWorker.Pipeline;
using Reference.Storage;

namespace Reference.Bench.Pages;

/// <summary>
/// What the background pass and the placeholder cost per upload, each engine, in this process on one thread:
/// the variants of every corpus image are written once, then their WebP copies made <c>runs</c> times (best kept).
/// </summary>
public static class WebpCost
{
    /// <param name="WebpPassMs">Sum over the corpus of the best pass per image (3 copies each, reads and writes included).</param>
    /// <param name="PlaceholderMs">Sum over the corpus of the best placeholder per image (the part inside upload→Ready).</param>
    public sealed record EngineCost(string Engine, int Images, double WebpPassMs, double MsPerUpload, long VariantBytes, long WebpBytes,
        double PlaceholderMs, double PlaceholderMsPerUpload, double PlaceholderMeanBytes);

    public static IReadOnlyList<EngineCost> Measure(IReadOnlyList<string> images, int runs, Action<string> log) =>
        [Measure(images, ImageEngineKind.ImageSharp, runs, log), Measure(images, ImageEngineKind.LibVips, runs, log)];

    private static EngineCost Measure(IReadOnlyList<string> images, ImageEngineKind engine, int runs, Action<string> log)
    {
        var root = Directory.CreateTempSubdirectory("bench-webp-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "originals"));
            var store = new LocalImageStore(root);
            var writer = new VariantWriter(Options.Create(new ImageOptions { Engine = engine }), store);
            var copies = new WebpCopies(writer, store);
            double passMs = 0, placeholderMs = 0, placeholderBytes = 0;
            long variantBytes = 0, webpBytes = 0;
            foreach (var image in images)
            {
                File.Copy(image, Path.Combine(root, "originals", Path.GetFileName(image)));
                var id = Guid.NewGuid();
                var variants = writer.WriteAsync(id, $"originals/{Path.GetFileName(image)}").GetAwaiter().GetResult();
                var bestPass = double.MaxValue;
                var bestPlaceholder = double.MaxValue;
                for (var run = 0; run < runs + 1; run++)
                {
                    foreach (var variant in variants)
                    {
                        File.Delete(Path.Combine(root, "variants", ImageStorage.WebpCopyKey(variant.Key)));
                    }

                    var pass = copies.WriteAsync(variants).GetAwaiter().GetResult();
                    var started = Stopwatch.GetTimestamp();
                    var placeholder = writer.MakePlaceholderAsync(variants).GetAwaiter().GetResult();
                    var placeholderElapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (run == 0)
                    {
                        // The first run pays the JIT of each encoder: a warm-up, not counted.
                        (variantBytes, webpBytes) = (variantBytes + pass.VariantBytes, webpBytes + pass.WebpBytes);
                        placeholderBytes += (placeholder?.Length ?? 0) * 3 / 4.0;
                        continue;
                    }

                    bestPass = Math.Min(bestPass, pass.Elapsed.TotalMilliseconds);
                    bestPlaceholder = Math.Min(bestPlaceholder, placeholderElapsed);
                }

                passMs += bestPass;
                placeholderMs += bestPlaceholder;
            }

            var result = new EngineCost(engine.ToString(), images.Count, Math.Round(passMs), Math.Round(passMs / images.Count, 1), variantBytes, webpBytes,
                Math.Round(placeholderMs, 1), Math.Round(placeholderMs / images.Count, 2), Math.Round(placeholderBytes / images.Count));
            log($"pages: {engine} WebP pass {result.MsPerUpload} ms per upload, {webpBytes:N0} bytes from {variantBytes:N0}; " +
                $"placeholder {result.PlaceholderMsPerUpload} ms, {result.PlaceholderMeanBytes} bytes");
            return result;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
