<?xml version="1.0" encoding="UTF-8"?>
<!--
  Profile: a gate/ticket management system that takes entry and exit transactions
  (operation RecordTransit, namespace urn:example:gate-system:v2).
  Input: a parkgate ParkingEvent. Output: the RecordTransit request element, one per vehicle
  passage. The transaction id is the ParkingEvent's EventID, so the legacy system can drop
  duplicates. An event decided REVIEW (parameter provisional: its plate was not read, or not
  surely) produces nothing: a person resolves it, and the resolution, under the same EventID
  with the plate the person read, is the passage's one transaction.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:pg="urn:parkgate:v1"
    xmlns:gs="urn:example:gate-system:v2"
    exclude-result-prefixes="pg">
  <xsl:output method="xml" indent="no"/>
  <xsl:param name="provisional" select="false()"/>

  <xsl:template match="/pg:ParkingEvent">
    <xsl:if test="not($provisional)">
      <gs:RecordTransit>
        <gs:Transaction>
          <gs:TransactionID><xsl:value-of select="pg:EventID"/></gs:TransactionID>
          <gs:LicensePlate><xsl:value-of select="pg:Vehicle/pg:LicensePlate/pg:Number"/></gs:LicensePlate>
          <gs:Facility><xsl:value-of select="pg:Location/pg:FacilityID"/></gs:Facility>
          <gs:Lane><xsl:value-of select="pg:Location/pg:LaneNumber"/></gs:Lane>
          <gs:Direction>
            <xsl:choose>
              <xsl:when test="pg:Location/pg:Direction = 'ENTRY'">IN</xsl:when>
              <xsl:otherwise>OUT</xsl:otherwise>
            </xsl:choose>
          </gs:Direction>
          <gs:OccurredAt><xsl:value-of select="pg:Timestamp"/></gs:OccurredAt>
          <xsl:if test="pg:Charges">
            <gs:Amount><xsl:value-of select="pg:Charges/pg:CurrentCharge"/></gs:Amount>
            <gs:Currency><xsl:value-of select="pg:Charges/pg:CurrentCharge/@currency"/></gs:Currency>
          </xsl:if>
          <gs:Outcome>
            <xsl:choose>
              <xsl:when test="pg:Authorization/pg:AccessGranted = 'true'">GRANTED</xsl:when>
              <xsl:otherwise>DENIED</xsl:otherwise>
            </xsl:choose>
          </gs:Outcome>
        </gs:Transaction>
      </gs:RecordTransit>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>
