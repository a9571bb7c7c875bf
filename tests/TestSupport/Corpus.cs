namespace Reference.Tests.Support;

/// <summary>The shared photo corpus (<c>shared/corpus/images</c>, beside the repository).</summary>
public static class Corpus
{
    public static string ImagesDirectory { get; } = FindImagesDirectory();

    public static string Path(string fileName) => System.IO.Path.Combine(ImagesDirectory, fileName);

    public static IReadOnlyList<string> AllImages() =>
        Directory.GetFiles(ImagesDirectory).Where(f => !f.EndsWith(".md", StringComparison.OrdinalIgnoreCase)).Order().ToList();

    private static string FindImagesDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("REFERENCE_CORPUS");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        var candidate = System.IO.Path.Combine(RepoPaths.Root, "..", "shared", "corpus", "images");
        return Directory.Exists(candidate)
            ? System.IO.Path.GetFullPath(candidate)
            : throw new DirectoryNotFoundException(
                $"The photo corpus was not found at {candidate}. Set REFERENCE_CORPUS to its folder.");
    }
}

public static class RepoPaths
{
    /// <summary>The repository root: the nearest folder above the test binaries holding Reference.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Reference.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Reference.sln was not found above " + AppContext.BaseDirectory);
    }
}
