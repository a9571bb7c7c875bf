using Microsoft.Extensions.Options;

namespace Reference.Storage;

public enum StorageKind
{
    Local,
    S3,
}

/// <summary>
/// The <c>Storage</c> section as the store reads it: <c>Kind</c> (<c>Local</c>, the default, or <c>S3</c>),
/// <c>Root</c> for the folder, <c>S3:*</c> for a bucket, and <c>PublicBaseUrl</c> when the variants are
/// served from elsewhere (a public bucket or a CDN).
/// </summary>
public sealed class ImageStoreSettings
{
    /// <summary><c>Local</c> or <c>S3</c>; text, so a wrong value fails validation with a message rather than binding.</summary>
    public string Kind { get; set; } = nameof(StorageKind.Local);

    public StorageKind StoreKind => Enum.TryParse<StorageKind>(Kind, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
        ? kind
        : throw new InvalidOperationException(BadKind(Kind));

    internal static string BadKind(string kind) =>
        $"Storage:Kind is '{kind}'; it is Local (the default: a folder, Storage:Root) or S3 (Storage:S3:ServiceUrl and Storage:S3:Bucket).";

    /// <summary>The image folder (<c>Local</c>).</summary>
    public string Root { get; set; } = "";

    /// <summary>Where uploads are written before they are kept (<c>S3</c>); the system's temporary folder when empty.</summary>
    public string StagingFolder { get; set; } = "";

    /// <summary>
    /// The URL at which the <c>variants/</c> folder is public (e.g. <c>https://cdn.example.com/variants</c>): the
    /// gateway then redirects <c>/images/{key}</c> to <c>{PublicBaseUrl}/{key}</c> instead of serving the bytes.
    /// </summary>
    public string PublicBaseUrl { get; set; } = "";

    public S3Settings S3 { get; set; } = new();
}

public sealed class S3Settings
{
    /// <summary>The S3 endpoint, e.g. <c>http://127.0.0.1:9000</c>; requests are path-style (<c>{ServiceUrl}/{Bucket}/{key}</c>).</summary>
    public string ServiceUrl { get; set; } = "";

    public string Bucket { get; set; } = "";

    public string Region { get; set; } = "us-east-1";

    /// <summary>With <see cref="SecretKey"/>; both empty means the SDK's own credential chain (environment, instance role).</summary>
    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";
}

/// <summary>Checked at start: a wrong kind or a missing setting stops the service with one message naming what to set.</summary>
internal sealed class ImageStoreSettingsValidation : IValidateOptions<ImageStoreSettings>
{
    public ValidateOptionsResult Validate(string? name, ImageStoreSettings settings)
    {
        if (!Enum.TryParse<StorageKind>(settings.Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
        {
            return ValidateOptionsResult.Fail(ImageStoreSettings.BadKind(settings.Kind));
        }

        var missing = kind switch
        {
            StorageKind.Local => string.IsNullOrWhiteSpace(settings.Root) ? ["Storage:Root (the image folder)"] : new List<string>(),
            StorageKind.S3 => new[]
            {
                string.IsNullOrWhiteSpace(settings.S3.ServiceUrl) || !Uri.TryCreate(settings.S3.ServiceUrl, UriKind.Absolute, out _) ? "Storage:S3:ServiceUrl (an absolute URL)" : null,
                string.IsNullOrWhiteSpace(settings.S3.Bucket) ? "Storage:S3:Bucket" : null,
                string.IsNullOrWhiteSpace(settings.S3.AccessKey) != string.IsNullOrWhiteSpace(settings.S3.SecretKey) ? "Storage:S3:AccessKey and Storage:S3:SecretKey together" : null,
            }.OfType<string>().ToList(),
            _ => [],
        };
        if (!string.IsNullOrWhiteSpace(settings.PublicBaseUrl) && !Uri.TryCreate(settings.PublicBaseUrl, UriKind.Absolute, out _))
        {
            missing.Add("Storage:PublicBaseUrl as an absolute URL, or nothing");
        }

        return missing.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Image storage (Storage:Kind={settings.Kind}) needs {string.Join(", ", missing)}.");
    }
}
