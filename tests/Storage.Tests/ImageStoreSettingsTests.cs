using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Reference.Storage.Tests;

public sealed class ImageStoreSettingsTests
{
    [Theory]
    [InlineData("Blob", null, null, null, "Storage:Kind is 'Blob'")]
    [InlineData("Local", null, null, null, "Storage:Root")]
    [InlineData("S3", null, "images", null, "Storage:S3:ServiceUrl")]
    [InlineData("S3", "not a url", "images", null, "Storage:S3:ServiceUrl")]
    [InlineData("S3", "http://127.0.0.1:9000", null, null, "Storage:S3:Bucket")]
    [InlineData("S3", "http://127.0.0.1:9000", "images", "cdn.example.com", "Storage:PublicBaseUrl")]
    public async Task A_service_with_unusable_storage_settings_does_not_start_and_says_what_to_set(
        string kind, string? serviceUrl, string? bucket, string? publicBaseUrl, string named)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Kind"] = kind,
            ["Storage:S3:ServiceUrl"] = serviceUrl,
            ["Storage:S3:Bucket"] = bucket,
            ["Storage:PublicBaseUrl"] = publicBaseUrl,
        });
        builder.AddImageStore();
        using var host = builder.Build();

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Local", typeof(LocalImageStore))]
    [InlineData("s3", typeof(S3ImageStore))]
    public void The_kind_chooses_the_store(string kind, Type store)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Kind"] = kind,
            ["Storage:Root"] = Path.GetTempPath(),
            ["Storage:S3:ServiceUrl"] = "http://127.0.0.1:9000",
            ["Storage:S3:Bucket"] = "images",
        });
        builder.AddImageStore();
        using var host = builder.Build();

        Assert.IsType(store, host.Services.GetRequiredService<IImageStore>());
    }
}
