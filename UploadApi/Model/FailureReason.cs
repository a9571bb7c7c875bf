using System.Text.RegularExpressions;

namespace Reference.UploadApi.Model;

/// <summary>
/// A failure reason is shown to clients: exception messages from the worker or the broker may name
/// server paths (the storage root, a temp file), which tell an attacker the layout. They are cut out.
/// </summary>
public static partial class FailureReason
{
    public static string WithoutPaths(string reason) => WindowsPath().Replace(UnixPath().Replace(reason, "[path]"), "[path]");

    // An absolute path: a slash not part of a URL, a word or a fraction, then at least one more segment.
    [GeneratedRegex(@"(?<![\w:/.])/(?:[^\s/'""`]+/)+[^\s'""`]*")]
    private static partial Regex UnixPath();

    [GeneratedRegex(@"\b[A-Za-z]:\\[^\s'""`]+")]
    private static partial Regex WindowsPath();
}
