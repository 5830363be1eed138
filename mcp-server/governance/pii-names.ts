/**
 * Common given names and surnames (United States census and SSA lists, with names common among the
 * people our users hold data about). Used only as evidence that a column holds personal names when its
 * name does not say so; a column called `first_name` needs no dictionary.
 */
const givenNames = `
  james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony
  mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan
  jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander
  frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle
  walter ethan jeremy harold keith christian roger noah gerald carl terry sean austin arthur lawrence jesse
  dylan bryan joe jordan billy bruce albert willie gabriel logan alan juan wayne roy ralph randy eugene
  vincent russell elijah louis bobby philip johnny carlos luis victor marcus derek tyrone jamal raymond
  mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa betty margaret sandra
  ashley kimberly emily donna michelle dorothy carol amanda melissa deborah stephanie rebecca sharon laura
  cynthia kathleen amy shirley angela helen anna brenda pamela nicole emma samantha katherine christine
  debra rachel catherine carolyn janet ruth maria heather diane virginia julie joyce victoria olivia kelly
  christina lauren joan evelyn judith megan cheryl andrea hannah martha jacqueline frances gloria ann teresa
  kathryn sara janice jean alice madison doris abigail julia judy grace denise amber marilyn beverly danielle
  theresa sophia marie diana brittany natalie isabella charlotte rose alexis kayla sofia elena fatima
  priya aisha ngozi mei keisha yuki hiroshi wei li chen ana sven hans klaus pierre jean-pierre antonio
  giovanni francesco mohammed ahmed ali omar hassan ivan olga dmitri sergei anders lars ingrid astrid
`;
const surnames = `
  smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson
  anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis
  robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall
  rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins
  reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly
  howard ramos kim cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes
  price alvarez castillo sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan
  bell coleman butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson alexander
  hamilton graham reynolds griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina
  aguilar stevens murray ford castro marshall owens harrison fernandez mcdonald woods washington kennedy
  wells vargas henry chen freeman webb tucker guzman burns crawford olson simpson porter hunter gordon
  mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose
  stone salazar fox warren mills meyer rice schmidt garza daniels ferguson nichols stephens soto weaver
  ryan gardner payne grant dunn kelley spencer hawkins arnold pierce hansen peters santos hart bradley
  knight elliott cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray delgado berry
  perkins hoffman johnston matthews pena richards willis carpenter lawrence sandoval okafor kowalski singh
  muller schneider fischer weber dubois moreau rossi russo ferrari esposito tanaka suzuki wang zhang liu
`;

function wordSet(text: string): ReadonlySet<string> {
  return new Set(text.split(/\s+/).filter(Boolean));
}

export const commonGivenNames = wordSet(givenNames);
export const commonSurnames = wordSet(surnames);
