#:package SixLabors.ImageSharp
// Would WebP variants pay? Encodes each corpus image's three variants (1600, 600, 200 px) as the
// worker's JPEG (q82, 4:2:0) and as lossy WebP q75 (method 4, ImageSharp's default, and method 0,
// its fastest), one thread, best of 3 after a warm-up; prints ms and KB per variant and the totals.
//   tests/corpus/fetch.sh && dotnet run bench/webp/encode-cost.cs -- tests/corpus/images
// The figures and the decision are in docs/performance.md ("WebP variants").
using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

var dir = args[0];
Configuration.Default.MaxDegreeOfParallelism = 1;
var jpeg = new JpegEncoder { Quality = 82, ColorType = JpegColorType.YCbCrRatio420 };
var webp = new WebpEncoder { FileFormat = WebpFileFormatType.Lossy, Quality = 75, Method = WebpEncodingMethod.Default };
var webpFast = new WebpEncoder { FileFormat = WebpFileFormatType.Lossy, Quality = 75, Method = WebpEncodingMethod.Fastest };
Console.WriteLine("image|size|jpeg ms|jpeg KB|webp(m4) ms|webp KB|webp(m0) ms|webp(m0) KB");
double tj=0,tw=0,tf=0; long bj=0,bw=0,bf=0;
foreach (var file in Directory.GetFiles(dir).Order())
{
    using var src = Image.Load<Rgb24>(file);
    foreach (var side in new[] { 1600, 600, 200 })
    {
        using var img = src.Clone(x => x.AutoOrient().Resize(new ResizeOptions { Size = new Size(side, side), Mode = ResizeMode.Max }));
        img.Metadata.ExifProfile = null;
        (double ms, long bytes) Enc(SixLabors.ImageSharp.Formats.IImageEncoder e)
        {
            using var warm = new MemoryStream(); img.Save(warm, e);
            var best = double.MaxValue; long len = 0;
            for (var i = 0; i < 3; i++) { using var ms = new MemoryStream(); var t = Stopwatch.StartNew(); img.Save(ms, e); best = Math.Min(best, t.Elapsed.TotalMilliseconds); len = ms.Length; }
            return (best, len);
        }
        var j = Enc(jpeg); var w = Enc(webp); var f = Enc(webpFast);
        tj+=j.ms; tw+=w.ms; tf+=f.ms; bj+=j.bytes; bw+=w.bytes; bf+=f.bytes;
        Console.WriteLine($"{Path.GetFileName(file)}|{side}|{j.ms:0.0}|{j.bytes/1024}|{w.ms:0.0}|{w.bytes/1024}|{f.ms:0.0}|{f.bytes/1024}");
    }
}
Console.WriteLine($"TOTAL|all|{tj:0}|{bj/1024}|{tw:0}|{bw/1024}|{tf:0}|{bf/1024}");
