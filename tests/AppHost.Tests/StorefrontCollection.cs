using Reference.Tests.Storefront;

namespace Reference.AppHost.Tests;

/// <summary>The end-to-end tests of this project share one running storefront.</summary>
[CollectionDefinition(Name)]
public sealed class StorefrontCollection : ICollectionFixture<StorefrontFixture>
{
    public const string Name = "storefront";
}
