using Reference.Bench;
using Reference.Tests.Support;

// bench/run.sh runs "all"; each benchmark can also run alone. See bench/README.md.
var args_ = new Args(args);
var resultsPath = args_.Get("out", Path.Combine(RepoPaths.Root, "bench", "results", DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + ".json"));
var images = args_.List("images", "").Select(Corpus.Path).DefaultIfEmpty().Where(p => p is not null).Cast<string>().ToList();
if (images.Count == 0)
{
    images = Corpus.AllImages().ToList();
}

void Log(string line) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}");

return await Commands.RunAsync(args_, resultsPath, images, Log);
