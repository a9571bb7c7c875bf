using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.Storage;

namespace Microsoft.Extensions.Hosting;

/// <summary>The image store <c>Storage:Kind</c> names: its registration, and its making from settings.</summary>
public static class ImageStores
{
    /// <summary>Registers <see cref="IImageStore"/> as <c>Storage:Kind</c> says, its settings checked at start.</summary>
    public static IHostApplicationBuilder AddImageStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImageStoreSettings>().BindConfiguration(ImageStorage.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ImageStoreSettings>, ImageStoreSettingsValidation>();
        builder.Services.AddSingleton<IImageStore>(sp => Create(sp.GetRequiredService<IOptions<ImageStoreSettings>>().Value));
        return builder;
    }

    /// <summary>The store <paramref name="settings"/> describe (also for tests and tools outside a host).</summary>
    public static IImageStore Create(ImageStoreSettings settings)
    {
        if (settings.StoreKind == StorageKind.Local)
        {
            return new LocalImageStore(settings.Root);
        }

        var staging = string.IsNullOrWhiteSpace(settings.StagingFolder)
            ? Path.Combine(Path.GetTempPath(), "reference-storage-staging")
            : settings.StagingFolder;
        return new S3ImageStore(CreateS3Client(settings.S3), settings.S3.Bucket, staging);
    }

    public static IAmazonS3 CreateS3Client(S3Settings s3)
    {
        var config = new AmazonS3Config
        {
            ServiceURL = s3.ServiceUrl,
            AuthenticationRegion = s3.Region,
            // Path-style URLs and no streaming checksums: what S3-compatible servers (s3rver, MinIO) accept.
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        return string.IsNullOrWhiteSpace(s3.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(s3.AccessKey, s3.SecretKey), config);
    }
}
