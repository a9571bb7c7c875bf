using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.AppHost.Tests;

/// <summary>
/// One storefront with <c>Storage:Kind=S3</c> for all of <see cref="ObjectStorageTests"/>: the AppHost starts its own S3
/// server (s3rver, the <c>storage</c> resource) and every service keeps images there.
/// </summary>
public sealed class ObjectStorageStorefront() : StorefrontFixture("--Storage:Kind=S3")
{
    public override Task InitializeAsync()
    {
        Prerequisite.Require(File.Exists("/usr/bin/node") && File.Exists("/usr/bin/npm"), "node and npm are not installed (Debian packages nodejs npm), so s3rver cannot run.");
        return base.InitializeAsync();
    }
}
